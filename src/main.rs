//! The `scudo` binary: parse the command line, hand it to the library, return its exit code.
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = scudo::cli::parse();
    ExitCode::from(scudo::run(cli))
}
