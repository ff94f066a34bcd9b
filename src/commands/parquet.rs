//! `scudo export parquet DIR`: the canonical model and the derived tables as Parquet, for Spark or
//! any engine that reads it (docs/scale-out.md). Orders and their items are partitioned by the
//! month of the order in the shop's calendar, Hive-style (`orders/month=2024-09/part-0.parquet`);
//! `manifest.json` lists every table with its columns, DuckDB types and row counts, and the
//! settings the numbers depend on (currency, time zone, health thresholds). Every table's rows
//! are counted against the database: an export that lost a row is an error, not a file.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{ExportParquetArgs, GlobalArgs};
use crate::error::{Exit, user};
use crate::output::{self, parquet::ParquetFile};
use crate::store::{Param, Store};

/// The tables written whole, in data-flow order.
const TABLES: &[&str] = &[
    "customers",
    "customer_sources",
    "customer_merges",
    "products",
    "segments",
    "segment_members",
    "customer_tags",
    "customer_stated_tags",
    "customer_notes",
    "exchange_rates",
    "order_currencies",
    "customer_summary",
    "score_runs",
    "customer_scores",
    "import_log",
    "check_runs",
    "check_results",
    "order_number_clashes",
];

/// The tables left out, and why (the manifest says so too).
const LEFT_OUT: &[(&str, &str)] = &[
    ("users", "sign-in accounts of scudo serve (password hashes)"),
    ("api_tokens", "API tokens of scudo serve (hashed secrets)"),
    ("outbox", "messages sent or due, with their recipients"),
    ("outbox_automation", "the outbox's links to automations"),
    ("automation_runs", "scudo's own run log"),
    ("suppressions", "unsubscribed addresses, kept for scudo's sending only"),
    ("erased_identities", "hashes of erased people, kept so that re-imports stay erased"),
    ("privacy_erasures", "the privacy log"),
    ("customer_search", "the search index (fuzzy search is DuckDB-only)"),
    ("search_words", "the search index (fuzzy search is DuckDB-only)"),
    ("order_versions", "earlier versions of re-imported orders"),
    ("check_failures", "sample rows of failed checks"),
    ("tz_offsets", "time-zone offsets the derived local times were computed from"),
    ("scudo_meta", "scudo's own settings (the manifest's settings)"),
];

/// (table, the query giving its rows with `month`, the rows of one month).
const PARTITIONED: &[(&str, &str, &str)] = &[
    (
        "orders",
        "SELECT DISTINCT COALESCE(strftime(local_at, '%Y-%m'), '__HIVE_DEFAULT_PARTITION__') AS m FROM orders ORDER BY m",
        "SELECT * FROM orders WHERE COALESCE(strftime(local_at, '%Y-%m'), '__HIVE_DEFAULT_PARTITION__') = ? \
         ORDER BY order_id",
    ),
    (
        "order_items",
        "SELECT DISTINCT COALESCE(strftime(o.local_at, '%Y-%m'), '__HIVE_DEFAULT_PARTITION__') AS m \
         FROM order_items i LEFT JOIN orders o ON o.order_id = i.order_id ORDER BY m",
        "SELECT i.* FROM order_items i LEFT JOIN orders o ON o.order_id = i.order_id \
         WHERE COALESCE(strftime(o.local_at, '%Y-%m'), '__HIVE_DEFAULT_PARTITION__') = ? ORDER BY i.order_id, i.line_no",
    ),
];

pub fn run(args: &ExportParquetArgs, g: &GlobalArgs) -> Result<Exit> {
    let (ws, store) = super::open_workspace_read_only(g)?;
    prepare_dir(&args.dir, args.force)?;
    let started = std::time::Instant::now();
    let mut tables = Vec::new();
    let progress = if g.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::with_draw_target(
            Some((TABLES.len() + PARTITIONED.len()) as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template("exporting [{bar:30}] {pos}/{len} tables ({msg})") {
            b.set_style(style.progress_chars("=> "));
        }
        b
    };
    for (name, months_sql, month_sql) in PARTITIONED {
        progress.set_message(*name);
        let months = store.query(months_sql, &[], name)?;
        let mut rows = 0u64;
        for row in &months.rows {
            let month = row[0].to_text();
            let path = args.dir.join(name).join(format!("month={month}")).join("part-0.parquet");
            let mut file = ParquetFile::new(&path);
            let schema = store.arrow_each(month_sql, &[&month], name, |s, b| file.write(s, &b))?;
            rows += file.finish(&schema)?;
        }
        if months.rows.is_empty() {
            // No rows: one empty file, so that the table and its columns exist for the reader.
            let path = args.dir.join(name).join("part-0.parquet");
            let mut file = ParquetFile::new(&path);
            let schema =
                store.arrow_each(&format!("SELECT * FROM {name} LIMIT 0"), &[], name, |s, b| file.write(s, &b))?;
            file.finish(&schema)?;
        }
        tables.push(describe(&store, name, rows, Some(months.rows.len()))?);
        progress.inc(1);
    }
    for name in TABLES {
        progress.set_message(*name);
        let path = args.dir.join(name).join("part-0.parquet");
        let mut file = ParquetFile::new(&path);
        let schema = store.arrow_each(&format!("SELECT * FROM {name}"), &[], name, |s, b| file.write(s, &b))?;
        let rows = file.finish(&schema)?;
        tables.push(describe(&store, name, rows, None)?);
        progress.inc(1);
    }
    progress.finish_and_clear();
    let (h, m) = (&ws.settings.health, &ws.settings.models);
    let manifest = serde_json::json!({
        "schema_version": 1,
        "scudo_version": env!("CARGO_PKG_VERSION"),
        "exported_at": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "settings": {
            "currency": store.values_currency()?,
            "timezone": store.reporting().timezone.name(),
            "health": {
                "at_risk_days": h.at_risk_days,
                "at_risk_gap_factor": h.at_risk_gap_factor,
                "dormant_days": h.dormant_days,
                "lost_days": h.lost_days,
                "new_days": h.new_days,
                "vip_min_revenue": h.vip_min_revenue,
            },
            // What `scudo score --from-parquet` scores the Spark job's statistics with.
            "models": {
                "unit": m.unit,
                "churn_horizon_days": m.churn_horizon_days,
                "clv_horizon_months": m.clv_horizon_months,
                "annual_discount_rate": m.annual_discount_rate,
                "min_repeat_buyers": m.min_repeat_buyers,
            },
        },
        "tables": tables,
        "left_out": LEFT_OUT.iter().map(|(t, why)| serde_json::json!({"table": t, "reason": why})).collect::<Vec<_>>(),
    });
    let path = args.dir.join("manifest.json");
    std::fs::write(&path, output::json::to_string(&manifest))
        .with_context(|| format!("cannot write {}", path.display()))?;
    if !g.quiet {
        let rows: u64 = manifest["tables"].as_array().into_iter().flatten().filter_map(|t| t["rows"].as_u64()).sum();
        eprintln!(
            "wrote {} ({} rows) as Parquet to {} in {:.1} s; manifest.json lists them",
            output::count((TABLES.len() + PARTITIONED.len()) as u64, "table", "tables"),
            output::group_thousands(rows),
            args.dir.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Exit::Ok)
}

/// A missing or empty folder is written; an earlier export (it has manifest.json) is replaced
/// with --force; any other folder is refused, --force or not.
fn prepare_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.next().is_none();
        if !empty {
            if !dir.join("manifest.json").is_file() {
                return Err(user(format!(
                    "{} is not empty and holds no scudo export (no manifest.json): choose a new folder",
                    dir.display()
                )));
            }
            if !force {
                return Err(user(format!(
                    "{} holds an export already: pass --force to replace it, or choose a new folder",
                    dir.display()
                )));
            }
            std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// A table's manifest entry; its written rows must be the database's.
fn describe(store: &Store, name: &str, rows: u64, partitions: Option<usize>) -> Result<serde_json::Value> {
    let count = store.query(&format!("SELECT count(*) FROM {name}"), &[], name)?;
    let expected = count.rows.first().and_then(|r| r[0].as_i64()).unwrap_or(-1);
    if i64::try_from(rows).ok() != Some(expected) {
        return Err(anyhow::anyhow!("{name}: wrote {rows} rows of {expected}; the export is incomplete"));
    }
    let cols = store.query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t ORDER BY ordinal_position",
        &[("t", Param::Text(name.to_string()))],
        name,
    )?;
    let columns: Vec<serde_json::Value> =
        cols.rows.iter().map(|r| serde_json::json!({"name": r[0].to_text(), "type": r[1].to_text()})).collect();
    let mut entry = serde_json::json!({"name": name, "path": name, "rows": rows, "columns": columns});
    if let Some(n) = partitions {
        entry["partitioned_by"] = serde_json::json!({"column": "month", "of": "local_at", "partitions": n});
    }
    Ok(entry)
}
