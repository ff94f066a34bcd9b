//! `scudo sql --dialect spark QUERY|--all --out DIR`: the query files in Spark SQL, their table
//! macros inlined and their parameters bound as literals (src/queries/spark.rs), for running the
//! same analytics on a cluster over `scudo export parquet`'s tables (docs/scale-out.md).

use anyhow::{Context, Result};

use crate::cli::{Dialect, GlobalArgs, SqlArgs};
use crate::config::Workspace;
use crate::error::{Exit, user};
use crate::output;
use crate::queries::spark::Translator;
use crate::queries::{Catalog, QueryContext, QueryFile};
use crate::store::{Param, Store};

/// Values `--all` binds for the parameters beyond the standard ones, when not given with --param:
/// the defaults of the commands that run these queries.
const ALL_DEFAULTS: &[(&str, &str)] = &[
    ("limit", "25"),
    ("period_days", "30"),
    ("unit_days", "7"),
    ("weeks", "12"),
    ("months", "12"),
    ("segment", ""),
    ("stage", ""),
];

pub fn run(args: &SqlArgs, g: &GlobalArgs) -> Result<Exit> {
    let Dialect::Spark = args.dialect;
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    let store = Store::open_read_only(&ws.database_path(), &ws.settings.reporting()?)?;
    let as_of = super::as_of(args.as_of.as_of, &ws)?;
    let ctx = QueryContext::new(&store, as_of, ws.settings.health.clone())?;
    drop(store);
    let translator = Translator::new(&catalog).map_err(|e| user(format!("the table macros: {e}")))?;
    let standard: Vec<(String, Param)> = ctx.params().into_iter().map(|(k, v)| (k.to_string(), v)).collect();

    let Some(dir) = args.out.as_ref().filter(|_| args.all) else {
        let name = args.name.as_deref().expect("clap requires a name without --all");
        let q = catalog.sql(name)?;
        if q.is_macro {
            return Err(user(format!("`{name}` is a table macro: it is inlined into the queries that read it")));
        }
        let params = bound(q, &standard, &args.params, None)
            .map_err(|e| user(format!("{}: {}", q.location(), why_not(&translator, q, &standard, &e))))?;
        let sql = translator.translate(&q.sql, &params).map_err(|e| user(format!("{}: {e}", q.location())))?;
        output::emit(&format!("{}{sql}", header(q, &params)))?;
        return Ok(Exit::Ok);
    };

    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let as_of_text = as_of.to_string();
    let mut written = Vec::new();
    let mut skipped = Vec::new();
    // The models' statistics in the workspace's own time unit ([models] unit), as `scudo score`
    // computes them, unless --param says otherwise.
    let mut given = args.params.clone();
    if !given.iter().any(|(k, _)| k == "unit_days") {
        let days = if ws.settings.models.unit == "day" { "1" } else { "7" };
        given.push(("unit_days".to_string(), days.to_string()));
    }
    for q in catalog.files.iter().filter(|f| !f.is_macro) {
        let params = match bound(q, &standard, &given, Some(&as_of_text)) {
            Ok(p) => p,
            Err(e) => {
                skipped.push(serde_json::json!({"id": q.id, "reason": why_not(&translator, q, &standard, &e)}));
                continue;
            }
        };
        match translator.translate(&q.sql, &params) {
            Ok(sql) => {
                let file = format!("{}.sql", q.id);
                let path = dir.join(&file);
                std::fs::write(&path, format!("{}{sql}", header(q, &params)))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                // The declared parameters: what `scudo query run ID --param` takes for the same rows.
                let values: serde_json::Map<String, serde_json::Value> = params
                    .iter()
                    .filter(|(k, _)| q.params.iter().any(|p| &p.name == k))
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(text(v))))
                    .collect();
                written.push(serde_json::json!({"id": q.id, "file": file, "params": values}));
            }
            Err(e) => skipped.push(serde_json::json!({"id": q.id, "reason": e.0})),
        }
    }
    let manifest = serde_json::json!({
        "schema_version": 1,
        "dialect": "spark",
        "as_of": as_of_text,
        "queries": written,
        "skipped": skipped,
    });
    let path = dir.join("queries.json");
    std::fs::write(&path, output::json::to_string(&manifest))
        .with_context(|| format!("cannot write {}", path.display()))?;
    if !g.quiet {
        eprintln!(
            "wrote {} as Spark SQL to {} (queries.json lists them with their parameters)",
            output::count(written.len() as u64, "query", "queries"),
            dir.display()
        );
        for s in &skipped {
            eprintln!("  skipped {}: {}", s["id"].as_str().unwrap_or(""), s["reason"].as_str().unwrap_or(""));
        }
    }
    Ok(Exit::Ok)
}

/// The parameters `q` declares, each with its value: --param, else the standard ones, else (for
/// --all) `until` = the as-of date and ALL_DEFAULTS. A declared parameter without a value is an
/// error naming it.
fn bound(
    q: &QueryFile,
    standard: &[(String, Param)],
    given: &[(String, String)],
    all_as_of: Option<&str>,
) -> Result<Vec<(String, Param)>> {
    for (k, _) in given {
        if all_as_of.is_none() && !q.params.iter().any(|p| &p.name == k) {
            let declared: Vec<&str> = q.params.iter().map(|p| p.name.as_str()).collect();
            return Err(user(format!("`{}` has no parameter `{k}`; it takes: {}", q.id, declared.join(", "))));
        }
    }
    // Every standard parameter (a query may read $as_of without declaring it, as DuckDB binds
    // them all), then the declared ones.
    let mut out: Vec<(String, Param)> =
        standard.iter().filter(|(k, _)| !q.params.iter().any(|p| &p.name == k)).cloned().collect();
    for p in &q.params {
        let value = if let Some((_, v)) = given.iter().find(|(k, _)| k == &p.name) {
            crate::queries::typed(v, &p.kind, &p.name)?
        } else if let Some((_, v)) = standard.iter().find(|(k, _)| k == &p.name) {
            v.clone()
        } else if let Some(as_of) = all_as_of.filter(|_| p.name == "until") {
            Param::Text(as_of.to_string())
        } else if let Some((_, v)) = ALL_DEFAULTS.iter().find(|(k, _)| *k == p.name).filter(|_| all_as_of.is_some()) {
            crate::queries::typed(v, &p.kind, &p.name)?
        } else {
            return Err(user(format!("needs --param {}=… ({})", p.name, p.kind)));
        };
        out.push((p.name.clone(), value));
    }
    Ok(out)
}

/// Why `q` cannot be written: what has no Spark spelling when there is such a thing (asking for a
/// parameter value would be pointless), else `missing` (a parameter without a value).
fn why_not(translator: &Translator, q: &QueryFile, standard: &[(String, Param)], missing: &anyhow::Error) -> String {
    let placeholders: Vec<(String, Param)> =
        standard.iter().cloned().chain(q.params.iter().map(|p| (p.name.clone(), Param::Null))).collect();
    match translator.translate(&q.sql, &placeholders) {
        Err(unportable) => unportable.0,
        Ok(_) => format!("{missing:#}"),
    }
}

fn text(p: &Param) -> String {
    match p {
        Param::Text(s) => s.clone(),
        Param::Int(n) => n.to_string(),
        Param::Float(x) => x.to_string(),
        Param::Bool(b) => b.to_string(),
        Param::Null => String::new(),
    }
}

fn header(q: &QueryFile, params: &[(String, Param)]) -> String {
    let values: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", text(v))).collect();
    let mut h =
        format!("-- {}: {}\n-- Spark SQL from {} (scudo sql --dialect spark)", q.id, q.description, q.location());
    if !values.is_empty() {
        h.push_str(&format!("\n-- parameters: {}", values.join(", ")));
    }
    h.push('\n');
    h
}
