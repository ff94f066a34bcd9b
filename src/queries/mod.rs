//! Stage 5: questions as SQL files.
//!
//! The built-in `queries/**/*.sql` are embedded at build time; a workspace's own `queries/` adds
//! files and overrides built-ins with the same id (`queries/health/stages.sql` → `health.stages`).
//! Files that define table macros (`CREATE … MACRO`) are the shared building blocks every other
//! query reads; they are registered before a query runs. Parameters are bound, never spliced.

pub mod customer;
pub mod dashboard;
pub mod scores;
pub mod search;
pub mod spark;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::config::HealthSettings;
use crate::error::user;
use crate::store::{Param, ResultSet, Store};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_queries.rs"));
}

/// Where a query file came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Builtin,
    Workspace(PathBuf),
}

/// One parameter a query declares.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub kind: String,
}

/// One SQL file with its header.
#[derive(Debug, Clone)]
pub struct QueryFile {
    /// `health.stages` for `queries/health/stages.sql`.
    pub id: String,
    pub description: String,
    pub params: Vec<ParamSpec>,
    /// The `-- columns:` block, as written.
    pub columns: Vec<String>,
    pub sql: String,
    pub origin: Origin,
    /// Defines a table macro other queries use.
    pub is_macro: bool,
    /// The name of the macro it defines (`customer_stages`).
    pub defines: Option<String>,
}

impl QueryFile {
    /// `queries/…` path for messages: the workspace file, or the built-in's path.
    pub fn location(&self) -> String {
        match &self.origin {
            Origin::Builtin => format!("queries/{}.sql (built-in)", self.id.replace('.', "/")),
            Origin::Workspace(p) => p.display().to_string(),
        }
    }

    fn parse(id: String, sql: String, origin: Origin) -> QueryFile {
        let mut description = String::new();
        let mut params = Vec::new();
        let mut columns = Vec::new();
        let mut in_columns = false;
        for line in sql.lines() {
            let Some(comment) = line.trim_start().strip_prefix("--") else {
                if line.trim().is_empty() {
                    continue;
                }
                break;
            };
            let comment = comment.trim();
            if let Some(d) = comment.strip_prefix("description:") {
                description = d.trim().to_string();
                in_columns = false;
            } else if let Some(p) = comment.strip_prefix("params:") {
                params = p
                    .split(',')
                    .filter_map(|spec| {
                        let mut words = spec.split_whitespace();
                        let name = words.next()?.to_string();
                        Some(ParamSpec { name, kind: words.next().unwrap_or("TEXT").to_string() })
                    })
                    .collect();
                in_columns = false;
            } else if comment.starts_with("columns:") {
                in_columns = true;
            } else if comment.starts_with("name:") {
                in_columns = false;
            } else if in_columns && !comment.is_empty() {
                columns.push(comment.to_string());
            }
        }
        let body = strip_comments(&sql);
        let upper = body.to_uppercase();
        let is_macro = upper.trim_start().starts_with("CREATE") && upper.contains("MACRO");
        let defines = if is_macro {
            upper.find("MACRO ").and_then(|at| {
                let rest = body[at + 6..].trim_start();
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                (!name.is_empty()).then_some(name)
            })
        } else {
            None
        };
        QueryFile { id, description, params, columns, sql, origin, is_macro, defines }
    }
}

/// True when `sql` calls `name(` (a whole word).
fn calls(sql: &str, name: &str) -> bool {
    let lower = sql.to_lowercase();
    let name = name.to_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(&name) {
        let start = from + at;
        let end = start + name.len();
        let before_ok =
            start == 0 || !lower[..start].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = lower[end..].trim_start();
        if before_ok && after.starts_with('(') {
            return true;
        }
        from = end;
    }
    false
}

fn strip_comments(sql: &str) -> String {
    sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n")
}

fn id_of(rel: &str) -> String {
    rel.trim_end_matches(".sql").replace(['/', '\\'], ".")
}

/// Every query scudo knows, built-ins overridden by the workspace's files.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub files: Vec<QueryFile>,
}

impl Catalog {
    /// The built-ins plus `dir` (a workspace's `queries/`) when it exists.
    pub fn load(dir: Option<&Path>) -> Result<Catalog> {
        let mut files: Vec<QueryFile> = builtin::BUILTIN
            .iter()
            .map(|(rel, sql)| QueryFile::parse(id_of(rel), (*sql).to_string(), Origin::Builtin))
            .collect();
        if let Some(dir) = dir.filter(|d| d.is_dir()) {
            for path in crate::config::files_under(dir, "sql")? {
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().to_string();
                let sql = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                let file = QueryFile::parse(id_of(&rel), sql, Origin::Workspace(path.clone()));
                files.retain(|f| f.id != file.id);
                files.push(file);
            }
        }
        files.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Catalog { files })
    }

    pub fn get(&self, id: &str) -> Option<&QueryFile> {
        self.files.iter().find(|f| f.id == id)
    }

    /// Registers the macros `sql` uses (and the ones they use, first), each once per connection:
    /// parsing every macro file for every query is most of a command's fixed cost.
    pub fn prepare(&self, store: &Store, sql: &str) -> Result<()> {
        let body = strip_comments(sql);
        for f in self.files.iter().filter(|f| f.is_macro) {
            let Some(name) = &f.defines else { continue };
            if store.has_macro(name) || !calls(&body, name) {
                continue;
            }
            if std::ptr::eq(f.sql.as_str(), sql) {
                continue;
            }
            self.prepare(store, &f.sql)?;
            self.register(store, f)?;
        }
        Ok(())
    }

    fn register(&self, store: &Store, f: &QueryFile) -> Result<()> {
        if let Some(name) = &f.defines
            && !store.has_macro(name)
        {
            store.execute(&f.sql, &[], &f.location())?;
            store.mark_macro(name);
        }
        Ok(())
    }

    /// Runs query `id` with the standard parameters of `ctx`.
    pub fn run(&self, store: &Store, id: &str, ctx: &QueryContext) -> Result<ResultSet> {
        self.run_with(store, id, ctx, &[])
    }

    /// Runs query `id` with the standard parameters of `ctx` and `extra` ones.
    pub fn run_with(&self, store: &Store, id: &str, ctx: &QueryContext, extra: &[(&str, Param)]) -> Result<ResultSet> {
        let file = self.sql(id)?;
        self.prepare(store, &file.sql)?;
        let mut params = ctx.params();
        params.extend(extra.iter().cloned());
        store.query(&file.sql, &params, &file.location())
    }

    /// Runs query `id` as [`Catalog::run_with`] does, keeping the result as typed columns (for
    /// the models' inputs, a row per customer).
    pub fn columns_with(
        &self,
        store: &Store,
        id: &str,
        ctx: &QueryContext,
        extra: &[(&str, Param)],
    ) -> Result<crate::store::Columns> {
        let file = self.sql(id)?;
        self.prepare(store, &file.sql)?;
        let mut params = ctx.params();
        params.extend(extra.iter().cloned());
        store.query_columns(&file.sql, &params, &file.location())
    }

    /// The file of query `id`.
    pub fn sql(&self, id: &str) -> Result<&QueryFile> {
        self.get(id).ok_or_else(|| user(format!("no query `{id}`; `scudo query list` shows them")))
    }
}

/// A parameter value from the command line, typed by the query's declaration.
pub fn typed(value: &str, kind: &str, name: &str) -> Result<Param> {
    let k = kind.to_ascii_uppercase();
    if matches!(k.as_str(), "INTEGER" | "INT" | "BIGINT") {
        return value.parse().map(Param::Int).map_err(|_| user(format!("--param {name}={value}: not a whole number")));
    }
    if matches!(k.as_str(), "DOUBLE" | "FLOAT" | "REAL") {
        return value.parse().map(Param::Float).map_err(|_| user(format!("--param {name}={value}: not a number")));
    }
    if k == "BOOLEAN" {
        return crate::ingest::values::parse_bool(value)
            .map(Param::Bool)
            .ok_or_else(|| user(format!("--param {name}={value}: not true or false")));
    }
    if k == "DATE" && value.parse::<chrono::NaiveDate>().is_err() {
        return Err(user(format!("--param {name}={value}: not a date (YYYY-MM-DD)")));
    }
    Ok(Param::Text(value.to_string()))
}

/// Purchases left out of every money figure and count for want of an exchange rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Unconverted {
    pub orders: u64,
    pub currencies: Vec<String>,
}

impl Unconverted {
    /// The note every view prints: "71 orders in GBP, INR and BDT are not included: …".
    pub fn note(&self, reporting: &str) -> String {
        let list = match self.currencies.as_slice() {
            [] => "another currency".to_string(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        format!(
            "{} {} in {list} {} not included (no exchange rate into {reporting} for their day): import rates with \
             `scudo rates import FILE`",
            crate::output::group_thousands(self.orders),
            if self.orders == 1 { "order" } else { "orders" },
            if self.orders == 1 { "is" } else { "are" },
        )
    }
}

/// The purchases up to `as_of` that have no value in the reporting currency (base.unconverted);
/// `None` when every purchase has one (read from a one-row-per-currency table first: free).
pub fn unconverted(store: &Store, catalog: &Catalog, as_of: NaiveDate) -> Result<Option<Unconverted>> {
    if store.unvalued_orders()? == 0 {
        return Ok(None);
    }
    let file = catalog.sql("base.unconverted")?;
    let rs = store.query(&file.sql, &[("as_of", Param::Text(as_of.to_string()))], &file.location())?;
    let (Some(o), Some(c)) = (rs.col("orders"), rs.col("currencies")) else { return Ok(None) };
    let Some(row) = rs.rows.first() else { return Ok(None) };
    let orders = row[o].as_i64().unwrap_or(0).max(0) as u64;
    let currencies = match &row[c] {
        crate::store::Cell::List(items) => items.iter().map(|i| i.to_text()).collect(),
        other => vec![other.to_text()],
    };
    Ok((orders > 0).then_some(Unconverted { orders, currencies }))
}

/// The standard parameters every query may use.
#[derive(Debug, Clone)]
pub struct QueryContext {
    pub as_of: NaiveDate,
    /// The wall clock (UTC) when the command started: `$now`, for freshness and ages.
    pub now: chrono::NaiveDateTime,
    pub currency: String,
    pub health: HealthSettings,
}

impl QueryContext {
    /// The reporting currency is the one the store's values are in (`auto` settled to the
    /// currency most orders are in).
    pub fn new(store: &Store, as_of: NaiveDate, health: HealthSettings) -> Result<QueryContext> {
        let currency = store.values_currency()?;
        Ok(QueryContext { as_of, now: chrono::Utc::now().naive_utc(), currency, health })
    }

    pub fn params(&self) -> Vec<(&'static str, Param)> {
        let h = &self.health;
        vec![
            ("as_of", Param::Text(self.as_of.to_string())),
            ("now", Param::Text(self.now.format("%Y-%m-%d %H:%M:%S").to_string())),
            ("currency", Param::Text(self.currency.clone())),
            ("at_risk_days", Param::Int(h.at_risk_days)),
            ("dormant_days", Param::Int(h.dormant_days)),
            ("lost_days", Param::Int(h.lost_days)),
            ("new_days", Param::Int(h.new_days)),
            ("vip_min_revenue", Param::Int(h.vip_min_revenue)),
            ("at_risk_gap_factor", Param::Float(h.at_risk_gap_factor)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_headers() {
        let c = Catalog::load(None).unwrap();
        for f in &c.files {
            assert!(!f.description.is_empty(), "{} has no description", f.id);
        }
        let stages = c.get("health.stages").unwrap();
        assert!(stages.is_macro);
        assert!(stages.params.iter().any(|p| p.name == "vip_min_revenue"));
        assert!(!c.get("dashboard.kpis").unwrap().is_macro);
    }

    #[test]
    fn workspace_files_override_and_extend() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("kpi")).unwrap();
        std::fs::write(dir.path().join("kpi/mine.sql"), "-- description: mine\nSELECT 1 AS one").unwrap();
        std::fs::create_dir_all(dir.path().join("dashboard")).unwrap();
        std::fs::write(dir.path().join("dashboard/kpis.sql"), "-- description: overridden\nSELECT 2").unwrap();
        let c = Catalog::load(Some(dir.path())).unwrap();
        assert_eq!(c.get("kpi.mine").unwrap().description, "mine");
        let k = c.get("dashboard.kpis").unwrap();
        assert_eq!(k.description, "overridden");
        assert!(matches!(k.origin, Origin::Workspace(_)));
    }
}
