//! `scudo rates import FILE` and `scudo rates list`.

use anyhow::Result;

use crate::cli::{GlobalArgs, RatesCommand};
use crate::error::{Exit, user};
use crate::ingest::{rates, rejects};
use crate::output;

pub fn run(cmd: &RatesCommand, g: &GlobalArgs) -> Result<Exit> {
    match cmd {
        RatesCommand::Import { file, base, rejects: rejects_path, output: out } => {
            let (ws, mut store) = super::open_workspace(g)?;
            let base = match base {
                Some(b) => {
                    let b = b.trim().to_uppercase();
                    if !crate::config::currencies::is_known(&b) {
                        return Err(user(format!("--base {b}: not an ISO 4217 currency code")));
                    }
                    b
                }
                None => store.values_currency()?,
            };
            let read = rates::read(file, &base)?;
            let display = file.display().to_string();
            if read.rates.is_empty() {
                return Err(user(format!(
                    "{display}: no usable rate in the file{}; nothing was changed",
                    if read.rejects.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} rows rejected)", read.rejects.len())
                    }
                )));
            }
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let counts = store.import_rates(&read.rates, &name)?;
            if !read.rejects.is_empty() {
                let stem = name.trim_end_matches(".gz").trim_end_matches(".csv");
                let path = rejects_path.clone().unwrap_or_else(|| ws.rejects_dir().join(format!("{stem}.rejects.csv")));
                rejects::write(&path, &[(display.clone(), read.rejects.clone())])?;
                if !g.quiet {
                    eprintln!("{} rows rejected: {}", read.rejects.len(), path.display());
                }
            }
            output::emit(&output::rates::imported(
                &display,
                read.format.name(),
                &counts,
                read.rejects.len(),
                out.format,
            ))?;
            Ok(Exit::Ok)
        }
        RatesCommand::List(out) => {
            let (_ws, store) = super::open_workspace_read_only(g)?;
            output::emit(&output::rates::coverage(&store.rate_coverage()?, out.format))?;
            Ok(Exit::Ok)
        }
    }
}
