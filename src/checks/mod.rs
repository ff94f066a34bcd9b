//! Data checks: SQL files in `queries/checks/` that return the failing rows (none: pass), each
//! with a severity and thresholds in its header (see `spec`). They run on a read-only connection;
//! a check that cannot run is reported as broken and the others still run.

pub mod spec;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{NaiveDate, NaiveDateTime};

pub use spec::{Severity, Spec, Threshold};

use crate::config::FreshnessSettings;
use crate::error::{Exit, user};
use crate::queries::{Catalog, QueryContext};
use crate::store::{Param, ResultSet, Store};

/// The id prefix of check files: `queries/checks/x.sql` is `checks.x`.
pub const PREFIX: &str = "checks.";

/// What became of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Pass,
    Skipped,
    Warn,
    Error,
    /// It could not run: a bad header, SQL error, missing table, a statement that writes.
    Broken,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skipped => "skipped",
            Status::Warn => "warn",
            Status::Error => "error",
            Status::Broken => "broken",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub spec: Spec,
    pub status: Status,
    /// Failing rows; `None` when it did not run.
    pub failing: Option<u64>,
    /// Rows of the denominator table, for thresholds in percent.
    pub denominator: Option<u64>,
    /// The threshold crossed (`error_if > 0`).
    pub crossed: Option<String>,
    /// Why it is broken or skipped.
    pub message: Option<String>,
    pub duration: Duration,
    /// The first failing rows (all that are kept).
    pub rows: ResultSet,
}

/// A run of the checks.
#[derive(Debug, Clone)]
pub struct Run {
    /// UTC.
    pub started_at: NaiveDateTime,
    pub as_of: NaiveDate,
    pub outcomes: Vec<Outcome>,
    pub duration: Duration,
    pub fail_on: Severity,
    /// The id it was recorded under, when it was.
    pub run_id: Option<i64>,
    /// `--select` / `--exclude` as given.
    pub selection: Option<String>,
}

impl Run {
    /// The worst result (skipped checks do not count); `Pass` for no checks.
    pub fn status(&self) -> Status {
        self.outcomes.iter().map(|o| o.status).filter(|s| *s != Status::Skipped).max().unwrap_or(Status::Pass)
    }

    /// passed, warned, failed, broken, skipped.
    pub fn counts(&self) -> [u64; 5] {
        let n = |s: Status| self.outcomes.iter().filter(|o| o.status == s).count() as u64;
        [n(Status::Pass), n(Status::Warn), n(Status::Error), n(Status::Broken), n(Status::Skipped)]
    }

    /// 0 all pass · 1 warnings only (2 with `--fail-on warn`) · 2 an error-level failure ·
    /// 3 a check could not run.
    pub fn exit(&self) -> Exit {
        match self.status() {
            Status::Broken => Exit::Broken,
            Status::Error => Exit::Error,
            Status::Warn if self.fail_on == Severity::Warn => Exit::Error,
            Status::Warn => Exit::Condition,
            Status::Pass | Status::Skipped => Exit::Ok,
        }
    }

    /// Records the run in the check history (with the failing rows kept when `store_failures`).
    pub fn record(&self, store: &mut Store, store_failures: bool) -> Result<i64> {
        let results = self
            .outcomes
            .iter()
            .map(|o| crate::store::checks::ResultRecord {
                name: &o.spec.name,
                status: o.status.as_str(),
                severity: o.spec.severity.as_str(),
                failing: o.failing,
                denominator: o.denominator,
                threshold: o.crossed.clone(),
                message: o.message.clone(),
                duration_ms: o.duration.as_millis() as u64,
                rows: (store_failures && !o.rows.rows.is_empty()).then_some(&o.rows),
            })
            .collect();
        store.record_check_run(&crate::store::checks::RunRecord {
            started_at: self.started_at,
            as_of: self.as_of,
            status: self.status().as_str(),
            counts: self.counts(),
            duration_ms: self.duration.as_millis() as u64,
            selection: self.selection.clone(),
            results,
        })
    }

    /// `9 checks: 7 passed, 1 warning, 1 error (0.4 s)`.
    pub fn summary(&self) -> String {
        let [passed, warned, failed, broken, skipped] = self.counts();
        let mut parts = vec![format!("{passed} passed")];
        if warned > 0 {
            parts.push(crate::output::count(warned, "warning", "warnings"));
        }
        if failed > 0 {
            parts.push(crate::output::count(failed, "error", "errors"));
        }
        if broken > 0 {
            parts.push(format!("{broken} could not run"));
        }
        if skipped > 0 {
            parts.push(format!("{skipped} skipped"));
        }
        format!(
            "{}: {} ({:.2} s)",
            crate::output::count(self.outcomes.len() as u64, "check", "checks"),
            parts.join(", "),
            self.duration.as_secs_f64()
        )
    }
}

/// Every check in the catalog (built-in and the workspace's), in name order; those named in
/// `disabled` are marked so.
pub fn specs(catalog: &Catalog, disabled: &[String]) -> Vec<Spec> {
    catalog
        .files
        .iter()
        .filter_map(|f| {
            let name = f.id.strip_prefix(PREFIX)?;
            let mut spec = Spec::parse(name, &f.location(), &f.sql);
            if disabled.iter().any(|d| d == name) {
                spec.enabled = false;
            }
            Some(spec)
        })
        .collect()
}

/// The checks `select` (globs; empty: all) picks and `exclude` does not. A pattern that is not a
/// glob, or a `--select` that matches nothing, is an error that lists the checks.
pub fn select(specs: Vec<Spec>, select: &[String], exclude: &[String]) -> Result<Vec<Spec>> {
    let compile = |flag: &str, pats: &[String]| -> Result<Vec<glob::Pattern>> {
        pats.iter()
            .map(|p| glob::Pattern::new(p).map_err(|e| user(format!("{flag} `{p}` is not a valid pattern: {e}"))))
            .collect()
    };
    let (sel, exc) = (compile("--select", select)?, compile("--exclude", exclude)?);
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    for (p, text) in sel.iter().zip(select) {
        if !names.iter().any(|n| p.matches(n)) {
            return Err(user(format!(
                "--select `{text}` matches no check; the checks are: {} (`scudo check list`)",
                names.join(", ")
            )));
        }
    }
    Ok(specs
        .into_iter()
        .filter(|s| sel.is_empty() || sel.iter().any(|p| p.matches(&s.name)))
        .filter(|s| !exc.iter().any(|p| p.matches(&s.name)))
        .collect())
}

/// Runs `specs` on `store` (opened read-only), keeping up to `keep` failing rows of each.
pub fn run(
    store: &Store,
    catalog: &Catalog,
    ctx: &QueryContext,
    specs: Vec<Spec>,
    freshness: &FreshnessSettings,
    keep: usize,
) -> Result<Vec<Outcome>> {
    provide_freshness(store, freshness)?;
    let params = ctx.params();
    let mut denominators: HashMap<String, Option<u64>> = HashMap::new();
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let started = Instant::now();
        let mut outcome = Outcome {
            status: Status::Pass,
            failing: None,
            denominator: None,
            crossed: None,
            message: None,
            duration: Duration::ZERO,
            rows: ResultSet::default(),
            spec,
        };
        if !outcome.spec.enabled {
            outcome.status = Status::Skipped;
            outcome.message = Some("disabled".into());
        } else if let Some(p) = &outcome.spec.problem {
            outcome.status = Status::Broken;
            outcome.message = Some(p.clone());
        } else if let Err(e) = evaluate(store, catalog, &params, &mut denominators, &mut outcome, keep) {
            outcome.status = Status::Broken;
            // DuckDB's first line says what is wrong (and where); the rest lists candidates.
            let text = format!("{e:#}");
            outcome.message = Some(text.lines().next().unwrap_or_default().trim_end().to_string());
        }
        outcome.duration = started.elapsed();
        out.push(outcome);
    }
    Ok(out)
}

fn evaluate(
    store: &Store,
    catalog: &Catalog,
    params: &[(&str, Param)],
    denominators: &mut HashMap<String, Option<u64>>,
    o: &mut Outcome,
    keep: usize,
) -> Result<()> {
    let spec = &o.spec;
    catalog.prepare(store, &spec.sql)?;
    let denominator = match &spec.denominator {
        None => None,
        Some(table) => {
            if !denominators.contains_key(table) {
                denominators.insert(table.clone(), store.table_rows(table)?);
            }
            Some(denominators[table].ok_or_else(|| {
                user(format!("{}: denominator `{table}`: the workspace has no such table", spec.location))
            })?)
        }
    };
    let head = store.query_head(&spec.sql, params, &spec.location, keep, Some(("severity", "error")))?;
    let failing = head.total;
    // Rows may carry their own severity (a stale source is a warning first, an error later).
    let error_rows = head.flagged.unwrap_or(failing);
    if spec.severity == Severity::Error && spec.error_if.holds(error_rows, denominator) {
        o.status = Status::Error;
        o.crossed = Some(format!("error_if {}", spec.error_if));
    } else if spec.warn_if.holds(failing, denominator) {
        o.status = Status::Warn;
        o.crossed = Some(format!("warn_if {}", spec.warn_if));
    }
    o.failing = Some(failing);
    o.denominator = denominator;
    o.rows = head.rows;
    Ok(())
}

/// The freshness limits of the settings as the temp table `check_freshness(name,
/// warn_after_hours, error_after_hours)`: `*` for the defaults, then one row per source or kind.
pub fn provide_freshness(store: &Store, f: &FreshnessSettings) -> Result<()> {
    store.execute(
        "CREATE OR REPLACE TEMP TABLE check_freshness (name VARCHAR, warn_after_hours DOUBLE, error_after_hours DOUBLE)",
        &[],
        "check_freshness",
    )?;
    let rows = std::iter::once(("*".to_string(), f.warn_after_hours, f.error_after_hours))
        .chain(f.sources.iter().map(|(k, l)| (k.clone(), l.warn_after_hours, l.error_after_hours)));
    for (name, warn, error) in rows {
        store.execute(
            "INSERT INTO check_freshness VALUES ($name, $warn, $error)",
            &[("name", Param::Text(name)), ("warn", Param::Float(warn)), ("error", Param::Float(error))],
            "check_freshness",
        )?;
    }
    Ok(())
}
