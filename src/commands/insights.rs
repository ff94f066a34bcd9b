//! `scudo insights`: the shop's narrative (what changed, why, what to do), and the narration
//! every insight shares with `scudo ask` and `scudo customer --insights`: facts first, then the
//! deterministic narrative or the model's, checked.

use anyhow::Result;

use super::Analysis;
use crate::cli::{Format, GlobalArgs, InsightsArgs, LlmArgs};
use crate::error::{Exit, user};
use crate::insights::facts::{self, Facts, Use};
use crate::insights::narrative;
use crate::llm::{self, Event};
use crate::output;

pub fn run(args: &InsightsArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open(g, args.as_of.as_of)?;
    let f = shop(&a, args.period_days, args.segment.as_deref())?;
    narrate(&a, &f, None, &args.llm, args.output.format, g)
}

/// The shop's facts: KPIs against the period before, stages, who needs attention, segments.
pub(crate) fn shop(a: &Analysis, period_days: i64, segment: Option<&str>) -> Result<Facts> {
    let mut f = Facts::new(Use::Shop, &a.ctx);
    if let Some(s) = segment {
        let perf = a.run("segments.performance", &[])?;
        let known = crate::insights::facts::rows(&perf, &["segment_id", "segment"]);
        if !known.iter().any(|r| r.values().any(|v| v.as_str().is_some_and(|x| x.eq_ignore_ascii_case(s)))) {
            return Err(user(format!("no segment `{s}`; `scudo segments` lists them")));
        }
    }
    facts::kpis(&a.store, &a.catalog, &a.ctx, period_days, &mut f)?;
    facts::health(&a.store, &a.catalog, &a.ctx, &mut f)?;
    facts::attention(&a.store, &a.catalog, &a.ctx, &mut f)?;
    facts::segments(&a.store, &a.catalog, &a.ctx, segment, &mut f)?;
    Ok(f)
}

/// Prints the narrative of `f`: scudo's own without `[llm]` (or with `--no-llm`), else the model's,
/// streamed and checked, falling back to scudo's own. `question` goes into the prompt.
pub(crate) fn narrate(
    a: &Analysis,
    f: &Facts,
    sql: Option<&str>,
    args: &LlmArgs,
    format: Format,
    g: &GlobalArgs,
) -> Result<Exit> {
    if format == Format::Csv {
        return Err(user("insights are text or JSON: pass --format table or --format json"));
    }
    let deterministic = narrative::write(f);
    let settings = &a.settings.llm;
    let ep = if args.no_llm { None } else { llm::endpoint(settings)? };
    let (seen, places) = f.for_model(settings.share_customer_data);
    let dir = a.root.join("report-templates").join("llm");
    let vars = f.prompt_vars(sql);
    let ask = llm::Ask { prompt: f.use_.prompt(), facts: seen.to_json(), vars, dir: Some(&dir), places: &places };
    if args.show_prompt {
        let ep = ep.clone().unwrap_or_else(|| placeholder_endpoint(settings));
        let body = llm::client::body(&ep, &llm::messages(&ask)?, true);
        output::emit(&format!("{}\n", serde_json::to_string_pretty(&body)?))?;
        if ep.base_url.is_empty() && !g.quiet {
            eprintln!("note: [llm] is not configured, so nothing would be sent; this is what a model would get");
        }
        return Ok(Exit::Ok);
    }
    let Some(ep) = ep else {
        let text = match format {
            Format::Json => output::insights::json(f, &deterministic, None, sql),
            _ => deterministic,
        };
        output::emit(&text)?;
        return Ok(Exit::Ok);
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let stream = format == Format::Table;
    let mut failed_io: Option<std::io::Error> = None;
    let quiet = g.quiet;
    let mut on = |e: Event| {
        if let Event::Failed(why) = &e
            && !quiet
        {
            eprintln!("warning: {why}");
        }
        if !stream || failed_io.is_some() {
            return;
        }
        let r = match e {
            Event::Text(t) => output::insights::stream(t),
            Event::Checked(at) => output::emit(&output::insights::verdict(at, false)),
            Event::Failed(_) => Ok(()),
        };
        if let Err(e) = r {
            failed_io = Some(e);
        }
    };
    let n = rt.block_on(llm::narrate(&ep, &ask, f.question.as_deref().unwrap_or(""), &mut on))?;
    if let Some(e) = failed_io {
        return Err(e.into());
    }
    if !g.quiet {
        let ttft = n.first_token.map(|d| format!("{:.1} s", d.as_secs_f64())).unwrap_or_else(|| "none".into());
        eprintln!("model {}: first text after {ttft}, done in {:.1} s", ep.model, n.total.as_secs_f64());
    }
    match format {
        Format::Json => output::emit(&output::insights::json(f, &deterministic, Some(&n), sql))?,
        _ => {
            if let Some(why) = &n.fallback {
                output::emit(&output::insights::fallback(why))?;
                output::emit(&deterministic)?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// The narrative a template asks for (`insights = "shop"` in its front matter), as the template
/// reads it: `text`, its `paragraphs` (each a list of `lines`), who wrote it (`scudo`, or the model when `[llm]` is set and
/// every number it wrote matched a fact) and, when the model's text was not used, why.
pub(crate) fn for_template(a: &Analysis, kind: &str, period_days: i64, location: &str) -> Result<serde_json::Value> {
    let f = match kind {
        "shop" => shop(a, period_days, None)?,
        other => return Err(user(format!("{location}: insights = \"{other}\": the one kind is \"shop\""))),
    };
    let deterministic = narrative::write(&f);
    let mut text = deterministic.clone();
    let mut by = "scudo".to_string();
    let mut fallback: Option<String> = None;
    let mut numbers_checked = 0;
    if let Some(ep) = llm::endpoint(&a.settings.llm)? {
        let (seen, places) = f.for_model(a.settings.llm.share_customer_data);
        let dir = a.root.join("report-templates").join("llm");
        let vars = f.prompt_vars(None);
        let ask = llm::Ask { prompt: f.use_.prompt(), facts: seen.to_json(), vars, dir: Some(&dir), places: &places };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let n = rt.block_on(llm::narrate(&ep, &ask, "", &mut |_| {}))?;
        match n.text {
            Some(t) => {
                numbers_checked = n.attempts.last().map_or(0, |at| at.numbers.len());
                text = t;
                by = format!("model {}", ep.model);
            }
            None => fallback = n.fallback,
        }
    }
    // Paragraphs of lines, so an HTML template can keep the line breaks of a list.
    let paragraphs: Vec<serde_json::Value> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| serde_json::json!({"lines": p.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>()}))
        .collect();
    Ok(serde_json::json!({
        "text": text.trim(),
        "paragraphs": paragraphs,
        "by": by,
        "numbers_checked": numbers_checked,
        "fallback": fallback,
    }))
}

/// Adds the narrative `prepared`'s front matter asks for to the data it is rendered from.
pub(crate) fn add_to_report(a: &Analysis, prepared: &mut crate::report::Prepared) -> Result<()> {
    let Some(kind) = prepared.front.insights.clone() else { return Ok(()) };
    let period_days = prepared.data["params"]["period_days"].as_str().and_then(|d| d.parse().ok()).unwrap_or(7);
    let value = for_template(a, &kind, period_days, &prepared.html.location)?;
    if let Some(doc) = prepared.data.as_object_mut() {
        doc.insert("insights".into(), value);
    }
    Ok(())
}

/// What `--show-prompt` shows when no model is configured.
fn placeholder_endpoint(s: &crate::config::LlmSettings) -> llm::client::Endpoint {
    llm::client::Endpoint {
        base_url: String::new(),
        model: if s.model.is_empty() { "(set [llm] model)".into() } else { s.model.clone() },
        api_key: None,
        key_env: s.api_key_env.clone(),
        timeout: std::time::Duration::from_secs(s.timeout_seconds.max(1)),
        max_tokens: s.max_tokens,
        temperature: s.temperature,
        max_retries: s.max_retries,
    }
}
