//! `scudo score`: score every customer on a date (stage, segments, RFM, churn probability with
//! reasons, CLV and its trend) and store the scores in the history, so alerts can tell what
//! changed since the previous run.

use anyhow::Result;
use serde_json::json;

use super::Analysis;
use crate::cli::{AnalysisArgs, Format, GlobalArgs};
use crate::error::Exit;
use crate::models::scoring::{self, FitReport};
use crate::output;
use crate::store::scores::ScoreRun;

/// The fitted parameters as JSON, with the literature's names.
pub fn fit_json(fit: &FitReport) -> serde_json::Value {
    json!({
        "bgnbd": fit.bgnbd.map(|(m, ll)| json!({"r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b, "log_likelihood": ll})),
        "gamma_gamma": fit.gamma_gamma.map(|(m, ll)| json!({"p": m.p, "q": m.q, "gamma": m.gamma, "log_likelihood": ll})),
        "customers": fit.customers,
        "repeat_buyers": fit.repeat_buyers,
        "fallback": fit.fallback,
    })
}

pub fn run(args: &AnalysisArgs, g: &GlobalArgs) -> Result<Exit> {
    let mut a = Analysis::open_for_writing(g, args.as_of.as_of)?;
    let settings = a.settings.models.clone();
    let started = std::time::Instant::now();
    let end = crate::queries::scores::data_end(&a.store, &a.catalog, &a.ctx)?;
    if let Some(w) = output::scores::far_past_warning(
        &format!("scoring as of {}", a.ctx.as_of),
        a.ctx.as_of,
        &end,
        &format!("`scudo score --as-of {}` scores the shop as its data ends", end.last_purchase.unwrap_or(a.ctx.as_of)),
    ) {
        output::scores::warn(&w);
    }
    let (rows, fit) = scoring::score(&a.store, &a.catalog, &a.ctx, &settings)?;
    // What the run knew, recorded with it: the threshold it applied and where the data ended.
    let mut parameters = fit_json(&fit);
    parameters["min_repeat_buyers"] = json!(settings.min_repeat_buyers);
    parameters["last_purchase"] = json!(end.last_purchase.map(|d| d.to_string()));
    parameters["days_after_last_purchase"] = json!(end.days_after(a.ctx.as_of));
    let models = match &fit.fallback {
        None => "stage, segments, rfm, bgnbd, gamma-gamma".to_string(),
        Some(why) => format!("stage, segments, rfm, rule-based churn ({why})"),
    };
    let file = a.catalog.sql("scores.snapshot")?.clone();
    a.catalog.prepare(&a.store, &file.sql)?;
    let params = a.ctx.params();
    let (origin, parameters_text) = (file.location(), parameters.to_string());
    let run = ScoreRun {
        as_of: a.ctx.as_of,
        snapshot_sql: &file.sql,
        origin: &origin,
        params: &params,
        models: &models,
        parameters: &parameters_text,
    };
    let (run_id, scored) = a.store.record_scores(&run, &rows)?;
    // Keep the history lean ([retention]): older runs thinned to one a day, week, then month.
    let (thinned, _) = a.store.apply_retention(a.settings.retention.rule())?;
    if thinned > 0 && !g.quiet {
        eprintln!(
            "note: {} thinned out by [retention] in scudo.toml",
            output::count(thinned, "older scoring run", "older scoring runs")
        );
    }
    super::dashboard::keep(&a.root, &a.settings, &mut a.store, g.quiet);
    a.store.announce(json!({"source": "score", "what": {"run_id": run_id, "as_of": a.ctx.as_of.to_string()},
                            "counts": {"customers": scored}}));
    let seconds = started.elapsed().as_secs_f64();
    let text = match args.output.format {
        Format::Json => output::json::to_string(&output::analytics::envelope(
            &a.ctx,
            json!({"run_id": run_id, "customers": scored, "buyers_scored": rows.len(), "models": parameters,
                   "seconds": (seconds * 1000.0).round() / 1000.0}),
        )),
        Format::Csv => format!("run_id,as_of,customers\n{run_id},{},{scored}\n", a.ctx.as_of),
        Format::Table => {
            let how = match &fit.fallback {
                None => format!("BG/NBD and Gamma-Gamma fitted on {} buyers in {:.2}s", fit.customers, fit.seconds),
                Some(why) => format!("churn is a rule-based estimate: {why}"),
            };
            format!("scoring run #{run_id}: {scored} customers scored as of {} in {seconds:.2}s; {how}\n", a.ctx.as_of)
        }
    };
    output::emit(&text)?;
    Ok(Exit::Ok)
}
