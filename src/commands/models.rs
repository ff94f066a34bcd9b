//! `scudo models fit|backtest`: the customer models, shown and tested.

use std::time::Instant;

use anyhow::Result;
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::Analysis;
use crate::cli::{Format, GlobalArgs, ModelArg, ModelsCommand, UnitArg};
use crate::error::{Exit, user};
use crate::models::bgnbd::BgNbd;
use crate::models::gamma_gamma::GammaGamma;
use crate::models::pareto::ParetoNbd;
use crate::models::{Grouped, Summary, Unit, spend_data, summaries};
use crate::output::{self, analytics::envelope, scores, table};
use crate::queries::scores::data_end;
use crate::store::{Cell, Param, ResultSet};

fn unit_of(arg: Option<UnitArg>, a: &Analysis) -> Unit {
    match arg {
        Some(UnitArg::Day) => Unit::Day,
        Some(UnitArg::Week) => Unit::Week,
        None if a.settings.models.unit == "day" => Unit::Day,
        None => Unit::Week,
    }
}

pub fn run(cmd: &ModelsCommand, g: &GlobalArgs) -> Result<Exit> {
    match cmd {
        ModelsCommand::Fit { model, from_parquet: Some(dir), analysis, .. } => {
            super::models_parquet::fit(dir, *model, analysis.output.format)
        }
        ModelsCommand::Fit { model, until, unit, analysis, .. } => {
            let a = Analysis::open(g, analysis.as_of.as_of)?;
            let (until, end) = until_or_data_end(&a, *until, "fit to")?;
            fit(&a, *model, until, end, unit_of(*unit, &a), analysis.output.format)
        }
        ModelsCommand::Backtest { split, until, unit, analysis } => {
            let a = Analysis::open(g, analysis.as_of.as_of)?;
            let (until, end) = until_or_data_end(&a, *until, "test up to")?;
            backtest(&a, *split, until, end, unit_of(*unit, &a), analysis.output.format)
        }
    }
}

/// `--until`, else the last purchase on or before the as-of date (else the as-of date, when there
/// are none). The models read the time since a customer's last purchase as evidence they left, so
/// an end far past the data (an old export, "today") makes every customer look gone and the fit
/// meaningless: such an `--until` is warned about.
fn until_or_data_end(a: &Analysis, flag: Option<NaiveDate>, verb: &str) -> Result<(NaiveDate, Option<NaiveDate>)> {
    let end = data_end(&a.store, &a.catalog, &a.ctx)?;
    let Some(until) = flag else { return Ok((end.last_purchase.unwrap_or(a.ctx.as_of), end.last_purchase)) };
    if let Some(last) = end.last_purchase
        && let Some(w) = scores::far_past_warning(
            &format!("--until {until}"),
            until,
            &end,
            &format!("leave --until out to {verb} {last}"),
        )
    {
        scores::warn(&w);
    }
    Ok((until, end.last_purchase))
}

fn data(a: &Analysis, until: NaiveDate, unit: Unit) -> Result<Vec<(String, Summary)>> {
    let d = summaries(&a.store, &a.catalog, &a.ctx, until, unit)?;
    if d.iter().filter(|(_, s)| s.x > 0.0).count() < 3 {
        return Err(user(format!(
            "too little history to fit a model by {until}: {} buyers, {} with a repeat purchase",
            d.len(),
            d.iter().filter(|(_, s)| s.x > 0.0).count()
        )));
    }
    Ok(d)
}

/// One fitted model: name, parameters, log-likelihood, customers it was fitted on, seconds.
pub type Fitted = (String, Value, f64, usize, f64);

/// Fits `which` model(s): the purchase models on `grouped`, Gamma-Gamma on `spend`.
pub fn fit_models(which: ModelArg, grouped: &Grouped, spend: &[(f64, f64)]) -> Vec<Fitted> {
    let customers = grouped.customers as usize;
    let mut models: Vec<Fitted> = Vec::new();
    if matches!(which, ModelArg::Bgnbd | ModelArg::All) {
        let t = Instant::now();
        let (m, ll) = BgNbd::fit(grouped);
        models.push((
            "bgnbd".into(),
            json!({"r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b}),
            ll,
            customers,
            t.elapsed().as_secs_f64(),
        ));
    }
    if matches!(which, ModelArg::ParetoNbd | ModelArg::All) {
        let t = Instant::now();
        let (m, ll) = ParetoNbd::fit(grouped);
        models.push((
            "pareto-nbd".into(),
            json!({"r": m.r, "alpha": m.alpha, "s": m.s, "beta": m.beta}),
            ll,
            customers,
            t.elapsed().as_secs_f64(),
        ));
    }
    if matches!(which, ModelArg::GammaGamma | ModelArg::All) {
        let t = Instant::now();
        let (m, ll) = GammaGamma::fit(spend);
        models.push((
            "gamma-gamma".into(),
            json!({"p": m.p, "q": m.q, "gamma": m.gamma}),
            ll,
            spend.len(),
            t.elapsed().as_secs_f64(),
        ));
    }
    models
}

/// The fitted models as `format`; `envelope` wraps the JSON body (as of, currency).
pub fn render_fit(
    models: &[Fitted],
    body: Value,
    envelope: impl FnOnce(Value) -> Value,
    title: &str,
    format: Format,
) -> String {
    match format {
        Format::Json => {
            let mut obj = serde_json::Map::new();
            for (name, params, ll, n, secs) in models {
                let mut m = params.as_object().cloned().unwrap_or_default();
                m.insert("log_likelihood".into(), json!(ll));
                m.insert("customers".into(), json!(n));
                m.insert("fit_seconds".into(), json!((secs * 1000.0).round() / 1000.0));
                obj.insert(name.clone(), Value::Object(m));
            }
            let mut body = body;
            body["models"] = Value::Object(obj);
            output::json::to_string(&envelope(body))
        }
        _ => {
            let rs = ResultSet {
                columns: ["model", "parameters", "log_likelihood", "customers", "fit_seconds"]
                    .map(String::from)
                    .to_vec(),
                rows: models
                    .iter()
                    .map(|(name, params, ll, n, secs)| {
                        let p = params
                            .as_object()
                            .map(|o| {
                                o.iter()
                                    .map(|(k, v)| format!("{k}={:.4}", v.as_f64().unwrap_or(0.0)))
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .unwrap_or_default();
                        vec![
                            Cell::Text(name.clone()),
                            Cell::Text(p),
                            Cell::Float((ll * 100.0).round() / 100.0),
                            Cell::Int(*n as i128),
                            Cell::Float((secs * 1000.0).round() / 1000.0),
                        ]
                    })
                    .collect(),
            };
            if format == Format::Csv { output::csv::render(&rs) } else { format!("{title}\n\n{}", table::render(&rs)) }
        }
    }
}

fn fit(
    a: &Analysis,
    which: ModelArg,
    until: NaiveDate,
    last_purchase: Option<NaiveDate>,
    unit: Unit,
    format: Format,
) -> Result<Exit> {
    let d = data(a, until, unit)?;
    let plain: Vec<Summary> = d.iter().map(|(_, s)| *s).collect();
    let models = fit_models(which, &Grouped::new(&plain), &spend_data(&plain));
    let body = json!({"until": until.to_string(), "last_purchase": last_purchase.map(|d| d.to_string()),
                      "unit": unit.name()});
    let title = format!("Models fitted on purchases up to {until}, in {}s", unit.name());
    output::emit(&render_fit(&models, body, |b| envelope(&a.ctx, b), &title, format))?;
    Ok(Exit::Ok)
}

fn backtest(
    a: &Analysis,
    split: NaiveDate,
    until: NaiveDate,
    last_purchase: Option<NaiveDate>,
    unit: Unit,
    format: Format,
) -> Result<Exit> {
    if until <= split {
        return Err(user(format!("--until {until} must be after --split {split}")));
    }
    let d = data(a, split, unit)?;
    let plain: Vec<Summary> = d.iter().map(|(_, s)| *s).collect();
    let (m, _) = BgNbd::fit(&Grouped::new(&plain));
    let holdout = a.run(
        "models.holdout",
        &[("split", Param::Text(split.to_string())), ("until", Param::Text(until.to_string()))],
    )?;
    let actual: std::collections::HashMap<String, f64> =
        holdout.rows.iter().map(|r| (r[0].to_text(), r[1].as_f64().unwrap_or(0.0))).collect();
    let h = (until - split).num_days() as f64 / unit.days();
    // (bin, customers, predicted, actual)
    let mut bins: Vec<(String, f64, f64, f64)> = (0..7).map(|b| (b.to_string(), 0.0, 0.0, 0.0)).collect();
    bins.push(("7+".into(), 0.0, 0.0, 0.0));
    let (mut abs_err, mut sq_err, mut pred_total, mut act_total) = (0.0, 0.0, 0.0, 0.0);
    for (id, s) in &d {
        let p = m.expected_purchases(h, s.x, s.t_x, s.t);
        let y = actual.get(id).copied().unwrap_or(0.0);
        let b = (s.x as usize).min(7);
        bins[b].1 += 1.0;
        bins[b].2 += p;
        bins[b].3 += y;
        abs_err += (p - y).abs();
        sq_err += (p - y).powi(2);
        pred_total += p;
        act_total += y;
    }
    let n = d.len() as f64;
    let total_error_pct = if act_total > 0.0 { (pred_total - act_total) / act_total * 100.0 } else { 0.0 };
    let rows: Vec<Vec<Cell>> = bins
        .iter()
        .filter(|b| b.1 > 0.0)
        .map(|(bin, c, p, y)| {
            vec![
                Cell::Text(bin.clone()),
                Cell::Int(*c as i128),
                Cell::Float((p / c * 1000.0).round() / 1000.0),
                Cell::Float((y / c * 1000.0).round() / 1000.0),
            ]
        })
        .collect();
    let rs = ResultSet {
        columns: ["calibration_repeat_purchases", "customers", "predicted_per_customer", "actual_per_customer"]
            .map(String::from)
            .to_vec(),
        rows,
    };
    let text = match format {
        Format::Json => output::json::to_string(&envelope(
            &a.ctx,
            json!({
                "split": split.to_string(), "until": until.to_string(),
                "last_purchase": last_purchase.map(|d| d.to_string()), "unit": unit.name(), "holdout_units": h,
                "bgnbd": {"r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b},
                "customers": d.len(),
                "predicted_repeat_purchases": pred_total, "actual_repeat_purchases": act_total,
                "total_error_pct": total_error_pct,
                "mae_per_customer": abs_err / n, "rmse_per_customer": (sq_err / n).sqrt(),
                "bins": output::json::rows(&rs),
            }),
        )),
        Format::Csv => output::csv::render(&rs),
        Format::Table => format!(
            "BG/NBD calibrated to {split}, holdout {h:.1} {}s to {until} · {} customers\n\
             predicted {pred_total:.1} repeat purchases, actual {act_total:.0} ({total_error_pct:+.1}%) · MAE {:.3} · RMSE {:.3} per customer\n\n{}",
            unit.name(),
            d.len(),
            abs_err / n,
            (sq_err / n).sqrt(),
            table::render(&rs)
        ),
    };
    output::emit(&text)?;
    Ok(Exit::Ok)
}
