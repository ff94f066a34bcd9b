//! `scudo completions SHELL`: a completion script on stdout.

use anyhow::Result;

use crate::cli::CompletionsArgs;
use crate::error::Exit;

pub fn run(args: &CompletionsArgs) -> Result<Exit> {
    let mut cmd = crate::cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "scudo", &mut buf);
    crate::output::emit(&String::from_utf8_lossy(&buf))?;
    Ok(Exit::Ok)
}
