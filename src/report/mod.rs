//! Stage 8: reports and emails. A template (`templates`) declares the queries it reads; they run
//! through the query catalog with bound parameters into one JSON document (the data `--format
//! json` prints), charts are drawn from it (`charts`), and handlebars renders it with the helpers
//! (`helpers`) into a self-contained HTML report or an email (`email`).

pub mod charts;
pub mod email;
pub mod helpers;
pub mod templates;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;
use serde_json::{Value, json};

use crate::error::user;
use crate::queries::{Catalog, QueryContext};
use crate::store::{Param, Store};
use helpers::{DrawnChart, Env, Mode};
use templates::{FrontMatter, Library, Source};

/// Version of the `scudo report --format json` shape (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// A template with its data, ready to render.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub name: String,
    pub front: FrontMatter,
    pub html: Source,
    pub text: Option<Source>,
    /// What the template is rendered from (`--format json`).
    pub data: Value,
    pub charts: Vec<charts::Chart>,
    pub currency: String,
}

/// Runs the queries template `name` declares, with `params` (`--param`) bound, and draws nothing
/// yet: the charts' data is taken from the rows.
pub fn prepare(
    lib: &Library,
    name: &str,
    params: &[(String, String)],
    store: &Store,
    catalog: &Catalog,
    ctx: &QueryContext,
) -> Result<Prepared> {
    let html = lib.report(name)?.clone();
    let front = templates::front_matter(&html)?;
    let here = |what: String| user(format!("{}: {what}", html.location));
    for (k, _) in params {
        if !front.params.contains_key(k) {
            let known: Vec<&str> = front.params.keys().map(String::as_str).collect();
            return Err(here(format!(
                "template `{}` has no parameter `{k}`; it takes: {}",
                html.name,
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        }
    }
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (k, decl) in &front.params {
        match params.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone()).or_else(|| decl.default.clone()) {
            Some(v) => {
                values.insert(k.clone(), v);
            }
            None => {
                return Err(user(format!(
                    "template `{}` needs --param {k}=VALUE ({})",
                    html.name,
                    if decl.description.is_empty() { "no description" } else { &decl.description }
                )));
            }
        }
    }
    let mut data = serde_json::Map::new();
    let mut counts = serde_json::Map::new();
    for (key, decl) in &front.queries {
        let spec = decl.spec();
        let file = catalog.get(&spec.query).ok_or_else(|| {
            here(format!("[queries] {key}: no query `{}`; `scudo query list` shows them", spec.query))
        })?;
        let mut extra: Vec<(String, Param)> = Vec::new();
        for p in &file.params {
            if let Some(v) = values.get(&p.name) {
                extra.push((p.name.clone(), crate::queries::typed(v, &p.kind, &p.name)?));
            }
        }
        for (k, v) in &spec.params {
            let kind = file.params.iter().find(|p| &p.name == k).map_or("TEXT", |p| p.kind.as_str());
            let param = match v {
                toml::Value::Integer(i) => Param::Int(*i),
                toml::Value::Float(f) => Param::Float(*f),
                toml::Value::Boolean(b) => Param::Bool(*b),
                toml::Value::String(s) => crate::queries::typed(s, kind, k)?,
                other => return Err(here(format!("[queries] {key}: parameter {k} = {other} is not a value"))),
            };
            extra.retain(|(n, _)| n != k);
            extra.push((k.clone(), param));
        }
        let refs: Vec<(&str, Param)> = extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let mut rs = catalog.run_with(store, &spec.query, ctx, &refs)?;
        counts.insert(key.clone(), json!(rs.rows.len()));
        if let Some(limit) = spec.limit {
            rs.rows.truncate(limit);
        }
        let value = if spec.row { crate::output::json::first_row(&rs) } else { crate::output::json::rows(&rs) };
        data.insert(key.clone(), value);
    }
    let mut charts = Vec::new();
    for (key, c) in &front.charts {
        let kind = charts::Kind::parse(&c.kind)
            .ok_or_else(|| here(format!("[charts] {key}: kind = `{}`: use \"bar\", \"hbar\" or \"line\"", c.kind)))?;
        let rows = data.get(&c.data).and_then(Value::as_array).ok_or_else(|| {
            here(format!("[charts] {key}: data = `{}` is not a query under [queries] with rows", c.data))
        })?;
        let mut labels = Vec::new();
        let mut points = Vec::new();
        for r in rows {
            let (Some(l), Some(v)) = (r.get(&c.label), r.get(&c.value)) else {
                return Err(here(format!(
                    "[charts] {key}: the rows of `{}` have no column `{}` or `{}`",
                    c.data, c.label, c.value
                )));
            };
            labels.push(match l {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            points.push(v.as_f64().or_else(|| v.to_string().parse().ok()).unwrap_or(0.0));
        }
        charts.push(charts::Chart {
            name: key.clone(),
            kind,
            title: c.title.clone(),
            labels,
            values: points,
            currency: c.money.then(|| ctx.currency.clone()),
            width: c.width,
            height: c.height,
        });
    }
    let chart_info: serde_json::Map<String, Value> = charts
        .iter()
        .map(|c| (c.name.clone(), json!({ "title": c.title, "alt": c.alt(), "labels": c.labels, "values": c.values })))
        .collect();
    let doc = json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "template": html.name,
        "title": front.title,
        "as_of": ctx.as_of.to_string(),
        "currency": ctx.currency,
        "params": values,
        "data": data,
        "counts": counts,
        "charts": chart_info,
    });
    let text = lib.get(&format!("{}.txt", html.name)).cloned();
    Ok(Prepared { name: html.name.clone(), front, html, text, data: doc, charts, currency: ctx.currency.clone() })
}

/// Renders `src` over the prepared data in `mode`, with the library's partials. Errors name the
/// template file and line.
pub fn render(
    lib: &Library,
    p: &Prepared,
    src: &Source,
    mode: Mode,
    drawn: BTreeMap<String, DrawnChart>,
) -> Result<String> {
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(true);
    if mode == Mode::Text {
        hb.register_escape_fn(handlebars::no_escape);
    }
    let env = Arc::new(Env { mode, currency: p.currency.clone(), charts: drawn });
    helpers::register(&mut hb, &env);
    for (name, partial) in lib.partials() {
        hb.register_partial(name, &partial.text).map_err(|e| template_error(partial, &e.to_string(), e.pos()))?;
    }
    hb.register_template_string(&src.location, &src.text)
        .map_err(|e| template_error(src, &e.reason().to_string(), e.pos()))?;
    let mut data = p.data.clone();
    data["email"] = Value::Bool(mode == Mode::Email);
    data["report"] = Value::Bool(mode == Mode::Report);
    hb.render(&src.location, &data).map_err(|e| {
        let file = e
            .template_name
            .as_ref()
            .and_then(|n| lib.files.iter().find(|f| &f.location == n || f.name.strip_prefix("partials/") == Some(n)))
            .unwrap_or(src);
        let reason = e.reason().to_string();
        template_error(file, &reason, e.line_no.map(|l| (l, e.column_no.unwrap_or(0))))
    })
}

fn template_error(src: &Source, reason: &str, pos: Option<(usize, usize)>) -> anyhow::Error {
    let reason = reason.trim();
    match pos {
        Some((line, col)) => user(format!("{} line {line}, column {col}: {reason}", src.location)),
        None => user(format!("{}: {reason}", src.location)),
    }
}

/// The report as one self-contained HTML file: CSS inlined (print rules kept), charts as SVG.
pub fn report_html(lib: &Library, p: &Prepared) -> Result<String> {
    let mut drawn = BTreeMap::new();
    for c in &p.charts {
        drawn.insert(
            c.name.clone(),
            DrawnChart { alt: c.alt(), width: c.width, height: c.height, svg: Some(c.svg()?), cid: None },
        );
    }
    let html = render(lib, p, &p.html, Mode::Report, drawn)?;
    inline_css(&html, &p.html)
}

/// CSS from `<style>` moved into `style` attributes (a crate, not by hand); `@media` rules stay in a
/// `<style>` element for print and small screens.
pub fn inline_css(html: &str, src: &Source) -> Result<String> {
    let inliner = css_inline::CSSInliner::options()
        .keep_style_tags(false)
        .keep_at_rules(true)
        .load_remote_stylesheets(false)
        .build();
    inliner.inline(html).map_err(|e| user(format!("{}: cannot inline the CSS: {e}", src.location)))
}
