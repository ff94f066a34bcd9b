//! `scudo mrr`: subscription revenue per month from the `subscriptions.mrr` query (docs/mrr.md).

use anyhow::Result;

use super::Analysis;
use crate::cli::{GlobalArgs, MrrArgs};
use crate::error::Exit;
use crate::output::{self, mrr as render};
use crate::store::Param;

pub fn run(args: &MrrArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open(g, args.analysis.as_of.as_of)?;
    let rs = a.run("subscriptions.mrr", &[("months", Param::Int(args.months))])?;
    output::emit(&render::render(&rs, &a.ctx, args.analysis.output.format))?;
    Ok(Exit::Ok)
}
