//! What checking a model's text costs: a 260-word text with 30 numbers against 200 facts, the
//! size of the demo's insights. `cargo run --example check_cost` (docs/benchmarks.md).

use scudo::llm::check::{check, facts_of};

fn main() {
    let mut doc = serde_json::Map::new();
    for i in 0..200 {
        doc.insert(format!("k{i}"), serde_json::json!(i as f64 * 13.7));
    }
    let facts = facts_of(&serde_json::Value::Object(doc));
    let sentence = "Revenue rose to $2,740 this month while 41.1% of the customers stayed active and the shop \
                    gained 137 orders from its most loyal buyers in Seattle. ";
    let text = sentence.repeat(10);
    let words = text.split_whitespace().count();
    let mut per_text = Vec::new();
    for _ in 0..15 {
        let started = std::time::Instant::now();
        let runs = 200;
        for _ in 0..runs {
            std::hint::black_box(check(std::hint::black_box(&text), &facts));
        }
        per_text.push(started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs));
    }
    per_text.sort_by(f64::total_cmp);
    let verdict = check(&text, &facts);
    println!(
        "checking a {words}-word text with {} numbers against {} facts: median {:.3} ms, fastest {:.3} ms, slowest {:.3} ms (15 rounds of 200)",
        verdict.numbers.len(),
        facts.len(),
        per_text[per_text.len() / 2],
        per_text[0],
        per_text[per_text.len() - 1]
    );
}
