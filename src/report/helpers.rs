//! The handlebars helpers templates use: money in the workspace currency, numbers, percentages,
//! deltas with ▲/▼ and colour, dates, plurals, sparklines and charts. Each knows whether it writes
//! HTML (escaped, styled inline) or plain text.

use std::collections::BTreeMap;
use std::sync::Arc;

use handlebars::{Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError};
use serde_json::Value;

use super::charts;

/// What the output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A self-contained HTML file: charts as inline SVG.
    Report,
    /// An email's HTML part: charts as `cid:` images.
    Email,
    /// An email's plain-text part: charts as their alt text.
    Text,
}

/// A chart, drawn for the mode at hand.
#[derive(Debug, Clone)]
pub struct DrawnChart {
    pub alt: String,
    pub width: u32,
    pub height: u32,
    /// Report: the SVG element.
    pub svg: Option<String>,
    /// Email: the Content-ID of the attached PNG.
    pub cid: Option<String>,
}

/// What every helper needs to know.
#[derive(Debug)]
pub struct Env {
    pub mode: Mode,
    pub currency: String,
    pub charts: BTreeMap<String, DrawnChart>,
}

#[derive(Clone, Copy)]
enum Kind {
    Money,
    Number,
    Percent,
    Delta,
    Date,
    Plural,
    Sparkline,
    Chart,
}

struct Fmt {
    kind: Kind,
    env: Arc<Env>,
}

/// Registers every helper on `hb`.
pub fn register(hb: &mut Handlebars<'_>, env: &Arc<Env>) {
    for (name, kind) in [
        ("money", Kind::Money),
        ("number", Kind::Number),
        ("percent", Kind::Percent),
        ("delta", Kind::Delta),
        ("date", Kind::Date),
        ("plural", Kind::Plural),
        ("sparkline", Kind::Sparkline),
        ("chart", Kind::Chart),
    ] {
        hb.register_helper(name, Box::new(Fmt { kind, env: Arc::clone(env) }));
    }
}

fn err(h: &Helper<'_>, msg: String) -> RenderError {
    handlebars::RenderErrorReason::Other(format!("{{{{{} …}}}}: {msg}", h.name())).into()
}

/// Parameter `i`, which must be given and must exist in the data.
fn arg<'a>(h: &'a Helper<'_>, i: usize) -> Result<&'a Value, RenderError> {
    let p = h.param(i).ok_or_else(|| err(h, format!("needs {} argument(s)", i + 1)))?;
    if p.is_value_missing() {
        let path = p.relative_path().cloned().unwrap_or_default();
        return Err(err(h, format!("`{path}` is not in the data (see `scudo report NAME --format json`)")));
    }
    Ok(p.value())
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `1234.5` → `1,234.5`; whole numbers without decimals.
pub fn number(v: f64, decimals: usize) -> String {
    let rounded = format!("{:.*}", decimals, v.abs());
    let (int, frac) = rounded.split_once('.').unwrap_or((&rounded, ""));
    let grouped = crate::output::group_thousands(int.parse().unwrap_or(0));
    let sign = if v < 0.0 && rounded.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    if frac.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{frac}") }
}

impl Fmt {
    fn escape(&self, s: &str) -> String {
        if self.env.mode == Mode::Text { s.to_string() } else { handlebars::html_escape(s) }
    }

    fn render(&self, h: &Helper<'_>) -> Result<String, RenderError> {
        let dash = "–".to_string();
        Ok(match self.kind {
            Kind::Money => match num(arg(h, 0)?) {
                None => dash,
                Some(v) => {
                    let decimals = h.hash_get("decimals").and_then(|d| d.value().as_u64()).unwrap_or(0) as usize;
                    if decimals == 0 {
                        crate::output::money_short(v, &self.env.currency)
                    } else {
                        let n = number(v, decimals);
                        match self.env.currency.as_str() {
                            "USD" => format!("${n}"),
                            "EUR" => format!("€{n}"),
                            "GBP" => format!("£{n}"),
                            c => format!("{n} {c}"),
                        }
                        .replace("$-", "-$")
                        .replace("€-", "-€")
                        .replace("£-", "-£")
                    }
                }
            },
            Kind::Number => match num(arg(h, 0)?) {
                None => dash,
                Some(v) => {
                    let decimals = h.hash_get("decimals").and_then(|d| d.value().as_u64()).unwrap_or(0) as usize;
                    number(v, decimals)
                }
            },
            Kind::Percent => match num(arg(h, 0)?) {
                None => dash,
                Some(v) => {
                    let decimals = h.hash_get("decimals").and_then(|d| d.value().as_u64()).unwrap_or(0) as usize;
                    format!("{}%", number(v * 100.0, decimals))
                }
            },
            Kind::Delta => return self.delta(h),
            Kind::Date => {
                let v = text_of(arg(h, 0)?);
                let format = h.hash_get("format").map(|f| text_of(f.value())).unwrap_or_else(|| "%-d %b %Y".into());
                match chrono::NaiveDate::parse_from_str(v.get(..10).unwrap_or(&v), "%Y-%m-%d") {
                    Ok(d) => self.escape(&d.format(&format).to_string()),
                    Err(_) if v.is_empty() => dash,
                    Err(_) => self.escape(&v),
                }
            }
            Kind::Plural => {
                let n = num(arg(h, 0)?).unwrap_or(0.0);
                let one = text_of(arg(h, 1)?);
                let many = h.param(2).map(|p| text_of(p.value())).unwrap_or_else(|| format!("{one}s"));
                let word = if (n - 1.0).abs() < f64::EPSILON { one } else { many };
                self.escape(&format!("{} {word}", number(n, 0)))
            }
            Kind::Sparkline => {
                let rows = arg(h, 0)?;
                let field = text_of(arg(h, 1)?);
                let values: Vec<f64> = rows
                    .as_array()
                    .map(|a| a.iter().filter_map(|r| r.get(&field).and_then(num)).collect())
                    .unwrap_or_default();
                charts::sparkline(&values)
            }
            Kind::Chart => {
                let name = text_of(arg(h, 0)?);
                let c = self
                    .env
                    .charts
                    .get(&name)
                    .ok_or_else(|| err(h, format!("no chart `{name}` in the front matter's [charts]")))?;
                match self.env.mode {
                    Mode::Text => c.alt.clone(),
                    Mode::Report => format!(
                        "<div class=\"chart\" role=\"img\" aria-label=\"{}\">{}</div>",
                        handlebars::html_escape(&c.alt),
                        c.svg.clone().unwrap_or_default()
                    ),
                    Mode::Email => format!(
                        "<img src=\"cid:{}\" width=\"{}\" height=\"{}\" alt=\"{}\" style=\"display:block;width:100%;max-width:{}px;height:auto;border:0\">",
                        c.cid.clone().unwrap_or_default(),
                        c.width,
                        c.height,
                        handlebars::html_escape(&c.alt),
                        c.width
                    ),
                }
            }
        })
    }

    /// `{{delta current previous}}`: ▲ 12% in green (▼ in red); `invert=true` when up is bad
    /// (at-risk customers), `points=true` for rates (a change in percentage points).
    fn delta(&self, h: &Helper<'_>) -> Result<String, RenderError> {
        let (cur, prev) = (num(arg(h, 0)?), num(arg(h, 1)?));
        let flag = |k: &str| h.hash_get(k).is_some_and(|v| v.value().as_bool() == Some(true));
        let (text, direction) = match (cur, prev) {
            (Some(c), Some(p)) if flag("points") => {
                let d = (c - p) * 100.0;
                (format!("{} pts", number(d.abs(), 1)), d.partial_cmp(&0.0))
            }
            (Some(c), Some(p)) if p.abs() > f64::EPSILON => {
                let d = (c - p) / p.abs() * 100.0;
                (format!("{}%", number(d.abs(), 0)), d.partial_cmp(&0.0))
            }
            (Some(c), Some(_)) if c.abs() > f64::EPSILON => ("new".to_string(), c.partial_cmp(&0.0)),
            (Some(_), Some(_)) => ("0%".to_string(), Some(std::cmp::Ordering::Equal)),
            _ => return Ok("–".to_string()),
        };
        let (arrow, good) = match direction {
            Some(std::cmp::Ordering::Greater) => ("▲", !flag("invert")),
            Some(std::cmp::Ordering::Less) => ("▼", flag("invert")),
            _ => ("=", true),
        };
        let label = if text == "new" { format!("{arrow} new") } else { format!("{arrow} {text}") };
        if self.env.mode == Mode::Text || arrow == "=" {
            return Ok(if self.env.mode == Mode::Text {
                label
            } else {
                format!("<span style=\"color:#4a5568\">{label}</span>")
            });
        }
        let colour = if good { "#2f855a" } else { "#c53030" };
        Ok(format!("<span style=\"color:{colour}\">{label}</span>"))
    }
}

impl HelperDef for Fmt {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        out.write(&self.render(h)?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(mode: Mode, tpl: &str, data: Value) -> String {
        let mut hb = Handlebars::new();
        if mode == Mode::Text {
            hb.register_escape_fn(handlebars::no_escape);
        }
        let env = Arc::new(Env { mode, currency: "USD".into(), charts: BTreeMap::new() });
        register(&mut hb, &env);
        hb.render_template(tpl, &data).unwrap()
    }

    #[test]
    fn formats() {
        let d = json!({"r": 28050.0, "p": 0.254, "a": 7, "b": 5, "n": 1, "d": "2024-10-01", "name": "<b>&"});
        assert_eq!(render(Mode::Email, "{{money r}} {{money r decimals=2}}", d.clone()), "$28,050 $28,050.00");
        assert_eq!(render(Mode::Email, "{{percent p}} {{percent p decimals=1}}", d.clone()), "25% 25.4%");
        assert_eq!(render(Mode::Text, "{{delta a b}} {{delta b a}}", d.clone()), "▲ 40% ▼ 29%");
        assert_eq!(
            render(Mode::Email, "{{delta a b invert=true}}", d.clone()),
            "<span style=\"color:#c53030\">▲ 40%</span>"
        );
        assert_eq!(render(Mode::Text, "{{date d}}", d.clone()), "1 Oct 2024");
        assert_eq!(
            render(Mode::Text, "{{plural n \"customer\"}}, {{plural a \"customer\"}}", d.clone()),
            "1 customer, 7 customers"
        );
        assert_eq!(render(Mode::Email, "{{name}}", d), "&lt;b&gt;&amp;");
        assert_eq!(number(-0.004, 2), "0.00");
        assert_eq!(number(-1234.5, 1), "-1,234.5");
    }
}
