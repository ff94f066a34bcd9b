//! `scudo export customers`: the customers, filtered by segment or stage, in the columns of a
//! CRM's importer, to a file or stdout.

use anyhow::{Context, Result};

use super::Analysis;
use crate::cli::{ExportCommand, ExportTo, GlobalArgs};
use crate::error::{Exit, user};
use crate::output::{self, export::Target};
use crate::store::Param;

pub fn run(cmd: &ExportCommand, g: &GlobalArgs) -> Result<Exit> {
    let args = match cmd {
        ExportCommand::Customers(args) => args,
        ExportCommand::Parquet(args) => return super::parquet::run(args, g),
    };
    let a = Analysis::open(g, args.as_of.as_of)?;
    let segment = args.segment.clone().unwrap_or_default();
    if !segment.is_empty() {
        let known = a.store.query("SELECT segment_id, name FROM segments ORDER BY name", &[], "segments")?;
        let found =
            known.rows.iter().any(|r| r[0].to_text() == segment || r[1].to_text().eq_ignore_ascii_case(&segment));
        if !found {
            let names: Vec<String> = known.rows.iter().take(20).map(|r| r[1].to_text()).collect();
            return Err(user(format!(
                "no segment `{segment}`; segments: {}",
                if names.is_empty() { "none yet".to_string() } else { names.join(", ") }
            )));
        }
    }
    let stage = args.stage.clone().unwrap_or_default();
    let rs = a.run("customers.export", &[("segment", Param::Text(segment)), ("stage", Param::Text(stage.clone()))])?;
    let target = match args.to {
        ExportTo::Csv => Target::Csv,
        ExportTo::Hubspot => Target::Hubspot,
        ExportTo::Salesforce => Target::Salesforce,
    };
    let text = output::export::customers(&rs, target);
    if rs.rows.is_empty() && !stage.is_empty() && !g.quiet {
        eprintln!(
            "note: no customer is in stage `{stage}` on {}; the stages are VIP, Active, New, At-Risk, Dormant, Lost and Prospect",
            a.ctx.as_of
        );
    }
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
            if !g.quiet {
                eprintln!(
                    "wrote {} to {}",
                    output::count(rs.rows.len() as u64, "customer", "customers"),
                    path.display()
                );
            }
        }
        None => output::emit(&text)?,
    }
    Ok(Exit::Ok)
}
