//! `scudo score`: score every customer on a date and store the scores in the history, so
//! alerts can tell what changed since the previous run.

use anyhow::Result;
use serde_json::json;

use super::Analysis;
use crate::cli::{AnalysisArgs, Format, GlobalArgs};
use crate::error::Exit;
use crate::output;

pub fn run(args: &AnalysisArgs, g: &GlobalArgs) -> Result<Exit> {
    let mut a = Analysis::open(g, args.as_of.as_of)?;
    let started = std::time::Instant::now();
    let file = a.catalog.sql("scores.snapshot")?.clone();
    let params = a.ctx.params();
    let (run_id, scored) = a.store.record_scores(a.ctx.as_of, &file.sql, &params, &file.location())?;
    let seconds = started.elapsed().as_secs_f64();
    let text = match args.output.format {
        Format::Json => output::json::to_string(&output::analytics::envelope(
            &a.ctx,
            json!({"run_id": run_id, "customers": scored, "seconds": (seconds * 1000.0).round() / 1000.0}),
        )),
        Format::Csv => format!("run_id,as_of,customers\n{run_id},{},{scored}\n", a.ctx.as_of),
        Format::Table => {
            format!("scoring run #{run_id}: {scored} customers scored as of {} in {seconds:.2}s\n", a.ctx.as_of)
        }
    };
    output::emit(&text)?;
    Ok(Exit::Ok)
}
