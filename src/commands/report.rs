//! `scudo report TEMPLATE`: a template's queries, rendered as one self-contained HTML file, or the
//! data it is rendered from as JSON.

use anyhow::{Context, Result};

use super::Analysis;
use crate::cli::{GlobalArgs, ReportArgs, ReportFormat};
use crate::error::Exit;
use crate::output;
use crate::report::{self, templates::Library};

pub fn run(args: &ReportArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open(g, args.as_of.as_of)?;
    let lib = Library::load(Some(&a.root.join("report-templates")))?;
    let mut prepared = report::prepare(&lib, &args.template, &args.params, &a.store, &a.catalog, &a.ctx)?;
    super::insights::add_to_report(&a, &mut prepared)?;
    let text = match args.format {
        ReportFormat::Json => output::json::to_string(&prepared.data),
        ReportFormat::Html => report::report_html(&lib, &prepared)?,
    };
    match &args.out {
        None => output::emit(&text)?,
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            if !g.quiet {
                eprintln!("wrote {} ({}, {} bytes)", path.display(), prepared.front.title, text.len());
            }
        }
    }
    Ok(Exit::Ok)
}
