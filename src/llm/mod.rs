//! The last stage: a language model phrases the facts scudo computed, and scudo checks every
//! number it writes. Takes the facts (`insights::facts`) and `[llm]`; gives a checked text, or the
//! reason it fell back to the deterministic narrative. Without `[llm]` nothing here runs.

pub mod check;
pub mod client;
pub mod privacy;
pub mod prompts;
pub mod sql;

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::config::LlmSettings;
use crate::error::user;
use client::{Endpoint, LlmError, Message};
use privacy::{Placeholders, Restorer};

/// The endpoint `[llm]` describes, or none when `base_url` is empty. The key is read from the
/// environment variable `api_key_env` names, here and nowhere else.
pub fn endpoint(s: &LlmSettings) -> Result<Option<Endpoint>> {
    if s.base_url.trim().is_empty() {
        return Ok(None);
    }
    if !(s.base_url.starts_with("http://") || s.base_url.starts_with("https://")) {
        return Err(user(format!("[llm] base_url = `{}` is not an http:// or https:// URL", s.base_url)));
    }
    if s.model.trim().is_empty() {
        return Err(user(
            "[llm] model is empty: name the model the server should use (e.g. \"gpt-4o-mini\", \"llama3.2\")",
        ));
    }
    let api_key = match s.api_key_env.trim() {
        "" => None,
        var => Some(std::env::var(var).map_err(|_| {
            user(format!(
                "[llm] api_key_env names the environment variable `{var}`, which is not set: export it with the key"
            ))
        })?),
    };
    Ok(Some(Endpoint {
        base_url: s.base_url.trim().to_string(),
        model: s.model.trim().to_string(),
        api_key,
        key_env: s.api_key_env.clone(),
        timeout: Duration::from_secs(s.timeout_seconds.max(1)),
        max_tokens: s.max_tokens,
        temperature: s.temperature,
        max_retries: s.max_retries,
    }))
}

/// What the prompt says, besides the facts.
pub struct Ask<'a> {
    /// The prompt template (`report-templates/llm/NAME.txt`).
    pub prompt: &'a str,
    /// The facts as the model sees them (customers as placeholders unless shared).
    pub facts: serde_json::Value,
    pub vars: Vec<(&'static str, String)>,
    /// The workspace's `report-templates/llm/`, whose files replace the built-ins.
    pub dir: Option<&'a Path>,
    pub places: &'a Placeholders,
}

/// The messages of the first request: the system rules, then the use's prompt with the facts.
pub fn messages(ask: &Ask) -> Result<Vec<Message>> {
    // Compact: a small local model reads every token of it before its first word.
    let facts = serde_json::to_string(&ask.facts)?;
    let mut vars: Vec<(&str, &str)> = vec![("facts", facts.as_str()), ("max_words", "150")];
    vars.extend(ask.vars.iter().map(|(k, v)| (*k, v.as_str())));
    Ok(vec![
        Message { role: "system", content: prompts::render("system", ask.dir, &vars)? },
        Message { role: "user", content: prompts::render(ask.prompt, ask.dir, &vars)? },
    ])
}

/// One answer of the model and how it checked.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// The text as printed (names restored).
    pub text: String,
    pub numbers: Vec<check::Checked>,
    pub unmatched: Vec<String>,
}

/// The outcome of asking for a narrative.
#[derive(Debug, Clone, Serialize)]
pub struct Narration {
    /// The checked text, when an attempt passed.
    pub text: Option<String>,
    pub attempts: Vec<Attempt>,
    /// Why the deterministic narrative is shown instead, when it is.
    pub fallback: Option<String>,
    #[serde(skip)]
    pub first_token: Option<Duration>,
    #[serde(skip)]
    pub total: Duration,
}

/// What the narration tells the terminal as it goes.
pub enum Event<'a> {
    /// A piece of text (names restored).
    Text(&'a str),
    /// An attempt ended: its verdict.
    Checked(&'a Attempt),
    /// The model failed; the reason.
    Failed(&'a str),
}

/// Asks the model for a narrative of the facts, streaming it through `on`; a text with a number
/// that matches no fact is asked for once more with those numbers named, and a second failure
/// (or any error of the model) leaves `text` empty with the reason in `fallback`.
pub async fn narrate(ep: &Endpoint, ask: &Ask<'_>, extra_facts: &str, on: &mut dyn FnMut(Event)) -> Result<Narration> {
    let mut facts = check::facts_of(&ask.facts);
    facts.extend(check::scan(extra_facts).into_iter().map(|f| check::Fact {
        path: "question".into(),
        value: match f.kind {
            check::Kind::Date(d) => check::FactValue::Date(d),
            _ => check::FactValue::Number(f.value),
        },
    }));
    let mut msgs = messages(ask)?;
    let mut out =
        Narration { text: None, attempts: Vec::new(), fallback: None, first_token: None, total: Duration::ZERO };
    let started = std::time::Instant::now();
    for attempt in 0..2 {
        let mut restorer = Restorer::new(ask.places);
        let reply = client::chat(ep, &msgs, &mut |t| {
            let shown = restorer.push(t);
            if !shown.is_empty() {
                on(Event::Text(&shown));
            }
        })
        .await;
        let rest = restorer.finish();
        if !rest.is_empty() {
            on(Event::Text(&rest));
        }
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                let why = describe(&e);
                on(Event::Failed(&why));
                out.fallback = Some(why);
                break;
            }
        };
        if attempt == 0 {
            out.first_token = reply.first_token;
        }
        let verdict = check::check(&reply.text, &facts);
        let unmatched: Vec<String> = verdict.unmatched().into_iter().map(str::to_string).collect();
        let a = Attempt { text: ask.places.restore(&reply.text), numbers: verdict.numbers, unmatched };
        on(Event::Checked(&a));
        let passed = a.unmatched.is_empty();
        let text = a.text.clone();
        let listed = listing(&a.unmatched);
        out.attempts.push(a);
        if passed {
            out.text = Some(text);
            break;
        }
        if attempt == 1 {
            out.fallback = Some(format!("numbers that match no fact twice in a row: {listed}"));
            break;
        }
        msgs.push(Message { role: "assistant", content: reply.text });
        msgs.push(Message {
            role: "user",
            content: prompts::render("retry", ask.dir, &[("unmatched", listed.as_str())])?,
        });
    }
    out.total = started.elapsed();
    Ok(out)
}

/// An error of the model, for the fallback note.
pub fn describe(e: &LlmError) -> String {
    e.to_string()
}

/// The model's one-shot answer (for a free question's SQL): the whole text, not streamed.
pub async fn complete(ep: &Endpoint, msgs: &[Message]) -> Result<String, LlmError> {
    Ok(client::chat(ep, msgs, &mut |_| {}).await?.text)
}

/// `5, 8, 13` — at most ten, then how many more.
pub fn listing(numbers: &[String]) -> String {
    let mut s = numbers.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
    if numbers.len() > 10 {
        s += &format!(" and {} more", numbers.len() - 10);
    }
    s
}
