//! `scudo query list|show|run|new`: the SQL files as a user-facing extension point.

use anyhow::{Context, Result};

use crate::cli::{Format, GlobalArgs, QueryCommand, QueryRunArgs};
use crate::config::Workspace;
use crate::error::{Exit, user};
use crate::output;
use crate::queries::{Catalog, QueryContext};
use crate::store::{Cell, Param, ResultSet, Store};

pub fn run(cmd: &QueryCommand, g: &GlobalArgs) -> Result<Exit> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    match cmd {
        QueryCommand::List(out) => list(&catalog, out.format),
        QueryCommand::Show { name } => {
            let q = catalog.get(name).ok_or_else(|| unknown(name, &catalog))?;
            output::emit(&format!("-- {}\n{}", q.location(), q.sql))?;
            Ok(Exit::Ok)
        }
        QueryCommand::Run(args) => run_query(&ws, &catalog, args),
        QueryCommand::New { name, force } => new(&ws, name, *force, g.quiet),
    }
}

fn unknown(name: &str, catalog: &Catalog) -> anyhow::Error {
    let close: Vec<&str> = catalog
        .files
        .iter()
        .map(|f| f.id.as_str())
        .filter(|id| id.contains(name) || name.contains(id.split('.').next_back().unwrap_or("")))
        .take(5)
        .collect();
    let hint = if close.is_empty() { String::new() } else { format!(" (did you mean {}?)", close.join(", ")) };
    user(format!("no query `{name}`{hint}; `scudo query list` shows them all"))
}

fn list(catalog: &Catalog, format: Format) -> Result<Exit> {
    let rs = ResultSet {
        columns: ["id", "kind", "description", "params", "origin"].map(String::from).to_vec(),
        rows: catalog
            .files
            .iter()
            .map(|f| {
                vec![
                    Cell::Text(f.id.clone()),
                    Cell::Text(if f.is_macro { "macro" } else { "query" }.into()),
                    Cell::Text(f.description.clone()),
                    Cell::Text(
                        f.params.iter().map(|p| format!("{} {}", p.name, p.kind)).collect::<Vec<_>>().join(", "),
                    ),
                    Cell::Text(match &f.origin {
                        crate::queries::Origin::Builtin => "built-in".to_string(),
                        crate::queries::Origin::Workspace(p) => p.display().to_string(),
                    }),
                ]
            })
            .collect(),
    };
    output::emit(&render(&rs, format, None))?;
    Ok(Exit::Ok)
}

fn render(rs: &ResultSet, format: Format, query: Option<&str>) -> String {
    match format {
        Format::Table => output::table::render(rs),
        Format::Csv => output::csv::render(rs),
        Format::Json => output::json::to_string(&serde_json::json!({
            "schema_version": 1,
            "query": query,
            "columns": rs.columns,
            "rows": output::json::rows(rs),
        })),
    }
}

fn run_query(ws: &Workspace, catalog: &Catalog, args: &QueryRunArgs) -> Result<Exit> {
    let store = Store::open_sandboxed(&ws.database_path(), &ws.settings.reporting()?)?;
    let as_of = super::as_of(args.as_of.as_of, ws)?;
    let ctx = QueryContext::new(&store, as_of, ws.settings.health.clone())?;
    // Check files (and the user's SQL) may read the freshness limits as `scudo check` gives them.
    crate::checks::provide_freshness(&store, &ws.settings.freshness)?;
    let mut params: Vec<(String, Param)> = ctx.params().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let (sql, origin, id) = match (&args.name, &args.sql) {
        (_, Some(sql)) => (sql.clone(), "--sql".to_string(), None),
        (Some(name), None) => {
            let q = catalog.get(name).ok_or_else(|| unknown(name, catalog))?;
            if q.is_macro {
                return Err(user(format!(
                    "`{name}` is a building block (a table macro), not a query: read it from SQL, e.g. \
                     scudo query run --sql \"SELECT * FROM {} LIMIT 10\"",
                    macro_call(&q.sql)
                )));
            }
            for (k, v) in &args.params {
                let kind = q.params.iter().find(|p| &p.name == k).map(|p| p.kind.clone()).ok_or_else(|| {
                    let declared: Vec<&str> = q.params.iter().map(|p| p.name.as_str()).collect();
                    user(format!("`{name}` has no parameter `{k}`; it takes: {}", declared.join(", ")))
                })?;
                params.retain(|(n, _)| n != k);
                params.push((k.clone(), crate::queries::typed(v, &kind, k)?));
            }
            (q.sql.clone(), q.location(), Some(name.clone()))
        }
        (None, None) => unreachable!("clap requires a name or --sql"),
    };
    if args.sql.is_some() {
        for (k, v) in &args.params {
            params.retain(|(n, _)| n != k);
            params.push((k.clone(), Param::Text(v.clone())));
        }
    }
    catalog.prepare(&store, &sql)?;
    let refs: Vec<(&str, Param)> = params.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let rs = store.query(&sql, &refs, &origin).map_err(|e| {
        let text = format!("{e:#}");
        if text.contains("read-only") || text.contains("disabled by configuration") {
            user(format!("{origin}: queries are read-only and cannot reach other files; {}", text.trim()))
        } else {
            e
        }
    })?;
    output::emit(&render(&rs, args.output.format, id.as_deref()))?;
    Ok(Exit::Ok)
}

/// `customer_stages($as_of, …)` from a macro file's `CREATE … MACRO name(args)` line.
fn macro_call(sql: &str) -> String {
    sql.lines()
        .find_map(|l| {
            let upper = l.to_uppercase();
            let at = upper.find("MACRO ")?;
            let rest = &l[at + 6..];
            let end = rest.find(')')?;
            let (name, args) = rest[..end].split_once('(')?;
            let args: Vec<String> = args.split(',').map(|a| format!("${}", a.trim())).collect();
            Some(format!("{}({})", name.trim(), args.join(", ")))
        })
        .unwrap_or_else(|| "the_macro(...)".to_string())
}

const TEMPLATE: &str = "\
-- name: {id}
-- description: One line: the question this query answers.
-- params: as_of DATE
-- columns:
--   customer_id   the customer
--   name          their name
--   revenue       lifetime net revenue up to as_of
--   stage         lifecycle stage on as_of
-- Parameters are bound, never spliced: write $as_of, $currency, $at_risk_days, $dormant_days,
-- $lost_days, $new_days, $vip_min_revenue, or declare your own in `params:` and pass
-- --param name=value. Run it with: scudo query run {id}
SELECT customer_id, name, revenue, stage
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue)
ORDER BY revenue DESC
LIMIT 10;
";

fn new(ws: &Workspace, name: &str, force: bool, quiet: bool) -> Result<Exit> {
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        || name.contains("..")
    {
        return Err(user(format!("`{name}` is not a query id: use letters, digits, _ and dots, e.g. kpi.margin")));
    }
    let path = ws.queries_dir().join(format!("{}.sql", name.replace('.', "/")));
    if path.exists() && !force {
        return Err(user(format!(
            "{} exists already and was left as it is; edit it, pick another name, or pass --force to replace it",
            path.display()
        )));
    }
    // A built-in id starts from the built-in file: the generic template would replace, say, the
    // lifecycle rules macro with a query, and every command built on it would fail.
    let builtins = Catalog::load(None)?;
    let builtin = builtins.get(name);
    let text = match builtin {
        Some(q) => q.sql.clone(),
        None => TEMPLATE.replace("{id}", name),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    if !quiet {
        eprintln!("wrote {}", path.display());
        if builtin.is_some() {
            eprintln!(
                "note: `{name}` is a built-in query: the file starts as a copy of it, and your edits override it \
                 (delete the file to go back to the built-in)"
            );
        }
        eprintln!("run it: scudo query run {name}");
    }
    Ok(Exit::Ok)
}
