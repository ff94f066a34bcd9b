//! Report templates: the built-in `report-templates/` (embedded at build time) overridden and
//! extended by a workspace's `report-templates/`, by name, as queries are.
//!
//! A template is a handlebars file `NAME.hbs` (the HTML of the report and of the email), with an
//! optional `NAME.txt.hbs` (the email's plain-text part) and shared `partials/*.hbs`. It opens with
//! a front matter in a handlebars comment, written in TOML, that declares its title, parameters,
//! the queries it reads and the charts it draws (docs/reports.md).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::user;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"));
}

/// One template file.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its path under report-templates/ without `.hbs`: `weekly-digest`, `weekly-digest.txt`,
    /// `partials/styles`.
    pub name: String,
    pub text: String,
    /// Where it comes from, for messages: the workspace file, or `report-templates/… (built-in)`.
    pub location: String,
    pub builtin: bool,
}

/// The templates scudo knows, built-ins overridden by the workspace's files.
#[derive(Debug, Clone)]
pub struct Library {
    pub files: Vec<Source>,
}

impl Library {
    /// The built-ins plus `dir` (a workspace's `report-templates/`) when it exists.
    pub fn load(dir: Option<&Path>) -> Result<Library> {
        let mut files: Vec<Source> = builtin::BUILTIN
            .iter()
            .map(|(rel, text)| Source {
                name: rel.trim_end_matches(".hbs").to_string(),
                text: (*text).to_string(),
                location: format!("report-templates/{rel} (built-in)"),
                builtin: true,
            })
            .collect();
        if let Some(dir) = dir.filter(|d| d.is_dir()) {
            for path in crate::config::files_under(dir, "hbs")? {
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                let name = rel.trim_end_matches(".hbs").to_string();
                files.retain(|f| f.name != name);
                files.push(Source { name, text, location: path.display().to_string(), builtin: false });
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Library { files })
    }

    pub fn get(&self, name: &str) -> Option<&Source> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The report templates (not partials, not text parts), by name.
    pub fn reports(&self) -> impl Iterator<Item = &Source> {
        self.files.iter().filter(|f| !f.name.starts_with("partials/") && !f.name.ends_with(".txt"))
    }

    /// The partials, by the name templates use (`{{> styles}}` for partials/styles.hbs).
    pub fn partials(&self) -> impl Iterator<Item = (&str, &Source)> {
        self.files.iter().filter_map(|f| f.name.strip_prefix("partials/").map(|n| (n, f)))
    }

    /// Report template `name`, or an error listing the ones there are.
    pub fn report(&self, name: &str) -> Result<&Source> {
        let name = name.trim_end_matches(".hbs");
        self.reports().find(|f| f.name == name).ok_or_else(|| {
            let (campaigns, known): (Vec<&str>, Vec<&str>) =
                self.reports().map(|f| f.name.as_str()).partition(|n| n.starts_with("campaigns/"));
            user(format!(
                "no report template `{name}`; templates: {}; campaign templates (rendered per customer by automations): {} \
                 (your own go in the workspace's report-templates/NAME.hbs)",
                known.join(", "),
                campaigns.join(", ")
            ))
        })
    }
}

/// What a template declares in its front matter.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The email subject (a handlebars line over the same data); default: the title and date.
    #[serde(default)]
    pub subject: Option<String>,
    /// Parameters the template takes (`--param name=value`), each bound to every query that
    /// declares a parameter of that name.
    #[serde(default)]
    pub params: BTreeMap<String, ParamDecl>,
    /// The data: a name for each query the template reads.
    #[serde(default)]
    pub queries: BTreeMap<String, QueryDecl>,
    /// The charts: each drawn from a query's rows.
    #[serde(default)]
    pub charts: BTreeMap<String, ChartDecl>,
    /// `insights = "shop"`: the shop's narrative (what changed, why, what to do) as `insights`,
    /// written by scudo from the facts or, with `[llm]`, by the model with every number checked.
    #[serde(default)]
    pub insights: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ParamDecl {
    #[serde(default)]
    pub description: String,
    /// Used when `--param` does not give it; without one the parameter is required.
    pub default: Option<String>,
}

/// `kpis = "kpi.summary"` or `kpis = { query = "kpi.summary", params = { period_days = 7 }, row = true }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum QueryDecl {
    Id(String),
    Full(QuerySpec),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    pub query: String,
    /// Fixed parameter values for this query.
    #[serde(default)]
    pub params: toml::Table,
    /// One row: the data is the query's first row (an object, or null) instead of a list.
    #[serde(default)]
    pub row: bool,
    /// At most this many rows reach the template (`counts.NAME` says how many there were).
    #[serde(default)]
    pub limit: Option<usize>,
}

impl QueryDecl {
    pub fn spec(&self) -> QuerySpec {
        match self {
            QueryDecl::Id(id) => QuerySpec { query: id.clone(), params: toml::Table::new(), row: false, limit: None },
            QueryDecl::Full(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartDecl {
    /// `bar`, `hbar` or `line`.
    pub kind: String,
    /// The query (a name under `[queries]`) whose rows are drawn.
    pub data: String,
    /// The column of the labels (x for bar and line, y for hbar).
    pub label: String,
    /// The column of the values.
    pub value: String,
    pub title: String,
    /// The values are money in the reporting currency.
    #[serde(default)]
    pub money: bool,
    #[serde(default = "default_width")]
    pub width: u32,
    #[serde(default = "default_height")]
    pub height: u32,
}

fn default_width() -> u32 {
    560
}

fn default_height() -> u32 {
    200
}

/// Reads the front matter: the file must open with a `{{!-- … --}}` comment holding TOML.
/// Errors name the file and the line in it.
pub fn front_matter(src: &Source) -> Result<FrontMatter> {
    let lead = src.text.len() - src.text.trim_start().len();
    let body = &src.text[lead..];
    let Some(rest) = body.strip_prefix("{{!--") else {
        return Err(user(format!(
            "{} line {}: a report template opens with its front matter, a `{{{{!-- … --}}}}` comment holding \
             TOML (title, params, queries, charts); see docs/reports.md",
            src.location,
            line_of(&src.text, lead)
        )));
    };
    let Some(end) = rest.find("--}}") else {
        return Err(user(format!(
            "{} line {}: the front matter comment `{{{{!--` is never closed with `--}}}}`",
            src.location,
            line_of(&src.text, lead)
        )));
    };
    let toml_text = &rest[..end];
    let toml_start = lead + 5;
    toml::from_str(toml_text).map_err(|e| {
        let at = e.span().map_or(toml_start, |s| toml_start + s.start);
        user(format!("{} line {}: front matter: {}", src.location, line_of(&src.text, at), e.message()))
    })
}

/// The 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_has_a_front_matter_and_a_text_part() {
        let lib = Library::load(None).unwrap();
        let names: Vec<&str> = lib.reports().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "at-risk",
                "campaigns/at-risk",
                "campaigns/onboarding",
                "campaigns/vip-escalation",
                "campaigns/win-back",
                "customer",
                "models",
                "segment-report",
                "subscriptions",
                "weekly-digest"
            ]
        );
        for f in lib.reports() {
            let fm = front_matter(f).unwrap_or_else(|e| panic!("{}: {e}", f.name));
            assert!(!fm.title.is_empty());
            assert!(lib.get(&format!("{}.txt", f.name)).is_some(), "{} has no text part", f.name);
        }
    }

    #[test]
    fn front_matter_errors_name_the_line() {
        let src = Source {
            name: "x".into(),
            text: "{{!--\ntitle = \"X\"\n[queries]\nk = 3\n--}}\n<p>hi</p>\n".into(),
            location: "x.hbs".into(),
            builtin: false,
        };
        let e = front_matter(&src).unwrap_err().to_string();
        assert!(e.starts_with("x.hbs line 4: front matter:"), "{e}");
        let src = Source { text: "<p>no front matter</p>".into(), ..src };
        assert!(front_matter(&src).unwrap_err().to_string().starts_with("x.hbs line 1:"));
    }
}
