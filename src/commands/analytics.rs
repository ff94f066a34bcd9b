//! The analytics commands: kpis, health, segments, alerts, cohorts, customers search. Each runs
//! SQL files from the catalog and hands the results to a renderer.

use anyhow::Result;

use super::Analysis;
use crate::cli::{
    AlertsArgs, AnalysisArgs, CustomersAction, CustomersArgs, GlobalArgs, KpisArgs, ListArgs, SegmentsAction,
    SegmentsArgs,
};
use crate::error::{Exit, user};
use crate::output::{self, analytics as render};
use crate::store::Param;

pub fn kpis(args: &KpisArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open(g, args.analysis.as_of.as_of)?;
    let rs = a.run("kpi.summary", &[("period_days", Param::Int(args.period_days))])?;
    output::emit(&render::kpis(&rs, &a.ctx, args.analysis.output.format))?;
    Ok(Exit::Ok)
}

/// Runs one query with the standard parameters and prints its rows.
fn rows(query: &str, args: &AnalysisArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open(g, args.as_of.as_of)?;
    let rs = a.run(query, &[])?;
    output::emit(&render::results(&rs, &a.ctx, args.output.format))?;
    Ok(Exit::Ok)
}

pub fn health(args: &AnalysisArgs, g: &GlobalArgs) -> Result<Exit> {
    rows("health.distribution", args, g)
}

pub fn segments(args: &SegmentsArgs, g: &GlobalArgs) -> Result<Exit> {
    match &args.action {
        None => {
            let a = Analysis::open(g, args.analysis.as_of.as_of)?;
            let rs = a.run("segments.performance", &[])?;
            output::emit(&render::results(&rs, &a.ctx, args.analysis.output.format))?;
        }
        Some(SegmentsAction::Show { segment, analysis }) => {
            let a = Analysis::open(g, analysis.as_of.as_of)?;
            let perf = a.run("segments.performance", &[])?;
            find_segment(&perf, segment)?;
            let rs = a.run("segments.members", &[("segment", Param::Text(segment.clone()))])?;
            output::emit(&render::results(&rs, &a.ctx, analysis.output.format))?;
        }
        Some(SegmentsAction::Compare { a: first, b: second, analysis }) => {
            let a = Analysis::open(g, analysis.as_of.as_of)?;
            let perf = a.run("segments.performance", &[])?;
            let ra = find_segment(&perf, first)?;
            let rb = find_segment(&perf, second)?;
            output::emit(&render::compare(&perf, &perf.rows[ra], &perf.rows[rb], &a.ctx, analysis.output.format))?;
        }
    }
    Ok(Exit::Ok)
}

/// The row of the segment named `key` (id, or name in any case).
fn find_segment(perf: &crate::store::ResultSet, key: &str) -> Result<usize> {
    let id = perf.require("segment_id", "segments.performance")?;
    let name = perf.require("segment", "segments.performance")?;
    perf.rows.iter().position(|r| r[id].to_text() == key || r[name].to_text().eq_ignore_ascii_case(key)).ok_or_else(
        || {
            let known: Vec<String> = perf.rows.iter().take(20).map(|r| r[name].to_text()).collect();
            user(format!(
                "no segment `{key}`; segments: {}",
                if known.is_empty() { "none yet".to_string() } else { known.join(", ") }
            ))
        },
    )
}

pub fn alerts(args: &AlertsArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open(g, args.analysis.as_of.as_of)?;
    let rs = a.run("alerts.all", &[("limit", Param::Int(args.limit))])?;
    output::emit(&render::results(&rs, &a.ctx, args.analysis.output.format))?;
    if args.analysis.output.format == crate::cli::Format::Table
        && !g.quiet
        && let (Some(kind), Some(total)) = (rs.col("kind"), rs.col("of_kind"))
    {
        let mut kinds: Vec<(String, u64, u64)> = Vec::new();
        for r in &rs.rows {
            let (k, n) = (r[kind].to_text(), r[total].as_f64().unwrap_or(0.0) as u64);
            match kinds.iter_mut().find(|(name, _, _)| *name == k) {
                Some(e) => e.1 += 1,
                None => kinds.push((k, 1, n)),
            }
        }
        if kinds.iter().any(|(_, shown, all)| shown < all) {
            let parts: Vec<String> = kinds
                .iter()
                .map(|(k, shown, all)| format!("{k} {shown} of {}", crate::output::group_thousands(*all)))
                .collect();
            eprintln!("showing the largest of each kind: {}; --limit 0 lists every one", parts.join(", "));
        }
    }
    // The exit-code contract: 1 when an alert condition holds.
    Ok(if rs.rows.is_empty() { Exit::Ok } else { Exit::Condition })
}

pub fn cohorts(args: &AnalysisArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open(g, args.as_of.as_of)?;
    let rs = a.run("cohorts.monthly", &[])?;
    output::emit(&render::cohorts(&rs, &a.ctx, args.output.format))?;
    Ok(Exit::Ok)
}

pub fn customers(args: &CustomersArgs, g: &GlobalArgs) -> Result<Exit> {
    match &args.action {
        CustomersAction::Search { query, limit, output: out } => {
            let a = Analysis::open(g, None)?;
            let rs = a.search(query, *limit)?;
            output::emit(&render::results(&rs, &a.ctx, out.format))?;
        }
    }
    Ok(Exit::Ok)
}

/// `scudo churn` and `scudo clv`: the latest scores, ranked, with the run they come from.
pub fn scores(query: &str, args: &ListArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open(g, args.analysis.as_of.as_of)?;
    // 0 lists every one, as `alerts --limit 0` does.
    let limit = if args.limit == 0 { 1_000_000_000_000 } else { args.limit };
    let rs = a.run(query, &[("limit", Param::Int(limit))])?;
    let run = crate::queries::scores::latest_run(&a.store, &a.catalog, &a.ctx)?;
    if let Some(r) = &run
        && let Some(w) = output::scores::stale_warning(r.run_id, &r.scored_as_of.to_string(), r.age_days, a.ctx.as_of)
    {
        output::scores::warn(&w);
    }
    let clv = query == "scores.clv";
    output::emit(&render::scores(&rs, run.as_ref(), clv, &a.ctx, args.analysis.output.format))?;
    Ok(Exit::Ok)
}
