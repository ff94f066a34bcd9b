//! The model path at scale (docs/scale-out.md): `scudo models fit --from-parquet RESULTS` and
//! `scudo score --from-parquet RESULTS --out DIR` fit and score the statistics a Spark job
//! (examples/spark/job.py) computed, with scudo's own formulas and no workspace: BG/NBD and
//! Pareto/NBD on the grouped statistics, Gamma-Gamma on the repeat buyers' spend, then every
//! customer streamed from Parquet to Parquet.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::cli::{Format, GlobalArgs, ModelArg};
use crate::config::{ModelSettings, Settings};
use crate::error::{Exit, user};
use crate::models::parquet::{self as stats, Customer};
use crate::models::scoring::{self, Numerators, Scorer};
use crate::models::{Grouped, Unit};
use crate::output::{self, parquet::ParquetFile};
use crate::store::scores::ModelRow;

/// What the job's results.json says the statistics were computed with.
struct Job {
    dir: PathBuf,
    until: NaiveDate,
    unit: Unit,
    currency: Option<String>,
    /// The exported workspace's [models] settings (the built-in ones when the export had none).
    settings: ModelSettings,
}

impl Job {
    fn read(dir: &Path) -> Result<Job> {
        let path = dir.join("results.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            user(format!(
                "cannot read {}: {e}; --from-parquet takes the folder examples/spark/job.py wrote (its --out)",
                path.display()
            ))
        })?;
        let report: Value =
            serde_json::from_str(&text).map_err(|e| user(format!("{}: not the job's report: {e}", path.display())))?;
        let query = |id: &str| report["queries"].as_array().and_then(|q| q.iter().find(|q| q["id"] == id)).cloned();
        let summary = query("models.summary").filter(|q| q.get("error").is_none()).ok_or_else(|| {
            user(format!("{}: models.summary did not run; the statistics are missing", path.display()))
        })?;
        let param = |q: &Value, name: &str| -> Result<String> {
            q["params"][name].as_str().map(str::to_string).ok_or_else(|| {
                user(format!(
                    "{}: {} has no parameter `{name}`: run examples/spark/job.py of this scudo version",
                    path.display(),
                    q["id"]
                ))
            })
        };
        let until_text = param(&summary, "until")?;
        let until = NaiveDate::parse_from_str(&until_text, "%Y-%m-%d")
            .map_err(|_| user(format!("{}: models.summary's until `{until_text}` is not a date", path.display())))?;
        let unit = match param(&summary, "unit_days")?.parse::<f64>().ok() {
            Some(1.0) => Unit::Day,
            Some(7.0) => Unit::Week,
            _ => return Err(user(format!("{}: models.summary's unit_days must be 1 or 7", path.display()))),
        };
        // The churn features must be of the same date as the statistics.
        if let Some(features) = query("models.features") {
            let as_of = param(&features, "as_of")?;
            if as_of != until_text {
                return Err(user(format!(
                    "{}: models.features is as of {as_of} but models.summary until {until_text}; \
                     translate the queries with one --as-of",
                    path.display()
                )));
            }
        }
        let settings = match report["settings"].get("models") {
            Some(m) => serde_json::from_value(m.clone())
                .map_err(|e| user(format!("{}: settings.models: {e}", path.display())))?,
            None => Settings::default().models,
        };
        Ok(Job {
            dir: dir.to_path_buf(),
            until,
            unit,
            currency: report["settings"]["currency"].as_str().map(str::to_string),
            settings,
        })
    }

    fn envelope(&self, body: Value) -> Value {
        let mut v = json!({"schema_version": 1, "as_of": self.until.to_string(), "currency": self.currency});
        if let (Value::Object(head), Value::Object(rest)) = (&mut v, body) {
            head.extend(rest);
        }
        v
    }

    /// The statistics the fits need: the groups and the repeat buyers' spend.
    fn statistics(&self) -> Result<(Grouped, Vec<(f64, f64)>)> {
        let grouped = stats::grouped(&self.dir.join("models.grouped"))?;
        let spend = stats::spend(&self.dir.join("models.summary"))?;
        let repeat: f64 = grouped.by_x.iter().filter(|(x, _)| *x > 0.0).flat_map(|(_, v)| v.iter().map(|r| r.2)).sum();
        if repeat < 3.0 {
            return Err(user(format!(
                "too little history to fit a model by {}: {} buyers, {repeat} with a repeat purchase",
                self.until, grouped.customers
            )));
        }
        Ok((grouped, spend))
    }
}

/// `scudo models fit --from-parquet RESULTS`.
pub fn fit(dir: &Path, which: ModelArg, format: Format) -> Result<Exit> {
    let job = Job::read(dir)?;
    let (grouped, spend) = job.statistics()?;
    let models = super::models::fit_models(which, &grouped, &spend);
    let body = json!({"until": job.until.to_string(), "unit": job.unit.name(), "from_parquet": dir.display().to_string(),
                      "groups": grouped.len()});
    let title = format!(
        "Models fitted on purchases up to {}, in {}s, from {} groups of {} customers in {}",
        job.until,
        job.unit.name(),
        grouped.len(),
        grouped.customers,
        dir.display()
    );
    output::emit(&super::models::render_fit(&models, body, |b| job.envelope(b), &title, format))?;
    Ok(Exit::Ok)
}

/// Scores one batch: two threads when it is large, each with its own numerator cache.
fn score_batch(scorer: &Scorer<'_>, batch: &[Customer], caches: &mut [Numerators; 2]) -> Result<Vec<ModelRow>> {
    let one = |part: &[Customer], cache: &mut Numerators| -> Vec<ModelRow> {
        part.iter().map(|(id, s, f)| scorer.row(id, s, f, cache)).collect()
    };
    let [c1, c2] = caches;
    if batch.len() < 20_000 {
        return Ok(one(batch, c1));
    }
    let (first, second) = batch.split_at(batch.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| one(second, c2));
        let mut rows = one(first, c1);
        rows.extend(other.join().map_err(|_| anyhow::anyhow!("scoring a customer failed unexpectedly"))?);
        Ok(rows)
    })
}

/// `scudo score --from-parquet RESULTS --out DIR`.
pub fn score(dir: &Path, out: &Path, format: Format, g: &GlobalArgs) -> Result<Exit> {
    let started = Instant::now();
    let job = Job::read(dir)?;
    let grouped = stats::grouped(&dir.join("models.grouped"))?;
    let spend = stats::spend(&dir.join("models.summary"))?;
    let fit = scoring::fit(&grouped, &spend, &job.settings);
    let fit_seconds = started.elapsed().as_secs_f64();
    let scorer = Scorer::new(&fit, &job.settings, job.unit, job.until);

    // Written under a name no reader takes for data, renamed when complete.
    let folder = out.join("customer_scores");
    let (partial, done) = (folder.join("part-0.parquet.partial"), folder.join("part-0.parquet"));
    let schema = output::parquet::model_scores_schema();
    let mut file = ParquetFile::new(&partial);
    let mut caches: [Numerators; 2] = Default::default();
    let scoring = Instant::now();
    let read = stats::customers(&dir.join("models.customers"), |batch| {
        let rows = score_batch(&scorer, &batch, &mut caches)?;
        file.write(&schema, &output::parquet::model_scores_batch(&schema, &rows)?)
    })?;
    let written = file.finish(&schema)?;
    if read != grouped.customers as u64 {
        std::fs::remove_file(&partial).ok();
        return Err(user(format!(
            "{}: models.customers has {read} customers but models.grouped counts {}: not from the same run",
            dir.display(),
            grouped.customers
        )));
    }
    std::fs::rename(&partial, &done).with_context(|| format!("cannot write {}", done.display()))?;
    let score_seconds = scoring.elapsed().as_secs_f64();

    let mut parameters = super::score::fit_json(&fit);
    parameters["min_repeat_buyers"] = json!(job.settings.min_repeat_buyers);
    let seconds = started.elapsed().as_secs_f64();
    let body = json!({
        "from_parquet": dir.display().to_string(),
        "out": done.display().to_string(),
        "unit": job.unit.name(),
        "customers": written,
        "groups": grouped.len(),
        "models": parameters,
        "fit_seconds": (fit_seconds * 1000.0).round() / 1000.0,
        "score_seconds": (score_seconds * 1000.0).round() / 1000.0,
        "seconds": (seconds * 1000.0).round() / 1000.0,
    });
    let record = out.join("models.json");
    std::fs::write(&record, output::json::to_string(&job.envelope(body.clone())))
        .with_context(|| format!("cannot write {}", record.display()))?;
    let text = match format {
        Format::Json => output::json::to_string(&job.envelope(body)),
        Format::Csv => format!("as_of,customers,out\n{},{written},{}\n", job.until, done.display()),
        Format::Table => {
            let how = match &fit.fallback {
                None => format!("BG/NBD and Gamma-Gamma fitted on {} buyers in {fit_seconds:.2}s", fit.customers),
                Some(why) => format!("churn is a rule-based estimate: {why}"),
            };
            format!(
                "{written} customers scored as of {} in {seconds:.2}s ({:.1} µs each); {how}; written to {}\n",
                job.until,
                score_seconds * 1e6 / (written.max(1) as f64),
                done.display()
            )
        }
    };
    if !g.quiet || format != Format::Table {
        output::emit(&text)?;
    }
    Ok(Exit::Ok)
}
