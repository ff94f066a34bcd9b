//! Rendering insights: the narrative as text (streamed as it arrives, then the checker's verdict)
//! and as one JSON document listing each number with the fact it matched.

use serde_json::json;

use crate::insights::facts::Facts;
use crate::llm::{Attempt, Narration};

/// Version of the `--format json` shape of `scudo insights` and `scudo ask` (docs/insights.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// A piece of streamed text, written at once.
pub fn stream(text: &str) -> std::io::Result<()> {
    super::emit(text)
}

/// The verdict after an attempt: `✓ 14 numbers checked`, or the numbers that match no fact.
pub fn verdict(a: &Attempt, last: bool) -> String {
    if a.unmatched.is_empty() {
        let n = a.numbers.len();
        format!("\n\n✓ {} checked against scudo's facts\n", super::count(n as u64, "number", "numbers"))
    } else if last {
        format!("\n\n✗ numbers that match no fact: {}\n", crate::llm::listing(&a.unmatched))
    } else {
        format!("\n\n✗ numbers that match no fact: {}; asking the model again\n\n", crate::llm::listing(&a.unmatched))
    }
}

/// The note before the deterministic narrative replaces the model's.
pub fn fallback(why: &str) -> String {
    format!("\nscudo's own narrative instead ({why}):\n\n")
}

/// The JSON document: the facts, then the narrative, where it came from and every number checked.
pub fn json(facts: &Facts, deterministic: &str, narration: Option<&Narration>, sql: Option<&str>) -> String {
    let (source, text) = match narration.and_then(|n| n.text.as_deref()) {
        Some(t) => ("llm", t),
        None => ("scudo", deterministic),
    };
    let numbers = match narration.and_then(|n| n.attempts.last()) {
        Some(a) if source == "llm" => serde_json::to_value(&a.numbers).unwrap_or_default(),
        _ => {
            let v = crate::llm::check::check(deterministic, &crate::llm::check::facts_of(&facts.to_json()));
            serde_json::to_value(v.numbers).unwrap_or_default()
        }
    };
    let doc = json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "use": facts.use_,
        "as_of": facts.as_of,
        "currency": facts.currency,
        "sql": sql,
        "narrative": {
            "source": source,
            "text": text,
            "numbers": numbers,
            "fallback": narration.and_then(|n| n.fallback.clone()),
            "attempts": narration.map(|n| serde_json::to_value(&n.attempts).unwrap_or_default()).unwrap_or(json!([])),
        },
        "facts": facts.to_json(),
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON");
    s.push('\n');
    s
}
