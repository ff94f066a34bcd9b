use super::*;
use proptest::prelude::*;

fn facts(doc: serde_json::Value) -> Vec<Fact> {
    facts_of(&doc)
}

fn texts(text: &str) -> Vec<String> {
    scan(text).into_iter().map(|f| f.text).collect()
}

#[test]
fn finds_every_kind_of_number() {
    let t = "Revenue was $28,050 ($28K, 28.05 thousand) on 2024-10-01, up 251.4% from Oct 1; \
             churn risk 25 percent, 1.2M visits, 3rd order, since March 2023 and 1 October 2024.";
    assert_eq!(
        texts(t),
        [
            "$28,050",
            "$28K",
            "28.05 thousand",
            "2024-10-01",
            "251.4%",
            "Oct 1",
            "25 percent",
            "1.2M",
            "3rd",
            "March 2023",
            "1 October 2024"
        ]
    );
    let f = scan("$28K");
    assert_eq!((f[0].value, f[0].tolerance, f[0].kind), (28000.0, 500.0, Kind::Money));
}

#[test]
fn names_and_list_markers_are_not_numbers() {
    assert!(texts("cust-000007 asked about Q4 and SmolLM2 with order #1047? No: order_12").is_empty());
    assert_eq!(texts("1. Call them\n2. Offer 10%\n"), ["10%"]);
    assert_eq!(texts("a 3x jump"), Vec::<String>::new());
}

#[test]
fn matches_within_the_rounding_the_text_shows() {
    let f = facts(serde_json::json!({"revenue": 28050.0, "risk": 0.25, "change_pct": -12.4, "on": "2024-10-01",
        "reason": "no order for 65 days (usually every 48 days)"}));
    let v = check(
        "Revenue of $28,050 ($28K, or 28.1 thousand) fell 12%; risk 25%; 65 days; 48 days; on October 1, 2024",
        &f,
    );
    assert!(v.passed(), "{:?}", v.numbers);
    assert_eq!(v.numbers[0].fact.as_deref(), Some("revenue"));
    assert_eq!(v.numbers.iter().find(|c| c.text == "25%").unwrap().fact.as_deref(), Some("risk"));
    assert_eq!(v.numbers.iter().find(|c| c.text == "65").unwrap().fact.as_deref(), Some("reason"));
    // Off by more than the last digit shown: no match.
    let bad = check("Revenue of $28,150, $29K, 12.1% and 2024-10-02; risk 26%", &f);
    assert_eq!(bad.unmatched(), ["$28,150", "$29K", "12.1%", "2024-10-02", "26%"]);
}

#[test]
fn years_and_months_match_dates() {
    let f = facts(serde_json::json!({"first": "2023-03-08", "n": 12}));
    assert!(check("a customer since March 2023, 12 orders, in 2023", &f).passed());
    assert_eq!(check("since April 2023, in 2022", &f).unmatched(), ["April 2023", "2022"]);
}

#[test]
fn a_300_word_text_is_checked_number_by_number() {
    // The text examples/check_cost.rs times: 260 words, 30 numbers, 200 facts.
    let mut doc = serde_json::Map::new();
    for i in 0..200 {
        doc.insert(format!("k{i}"), serde_json::json!(i as f64 * 13.7));
    }
    let facts = facts(serde_json::Value::Object(doc));
    let sentence = "Revenue rose to $2,740 this month while 41.1% of the customers stayed active and the shop \
                    gained 137 orders from its most loyal buyers in Seattle. ";
    let text = sentence.repeat(10);
    assert!((250..=350).contains(&text.split_whitespace().count()));
    let v = check(&text, &facts);
    assert_eq!(v.numbers.len(), 30);
    // $2,740 is 200 × 13.7 — not a fact (the keys run to 199); 41.1 = 3 × 13.7 and 137 = 10 × 13.7 are.
    assert_eq!(v.unmatched(), ["$2,740"]);
}

proptest! {
    #[test]
    fn a_fact_written_at_any_precision_matches(v in 0.0f64..10_000_000.0, d in 0usize..3) {
        let f = facts(serde_json::json!({"x": v}));
        let written = format!("{v:.d$}");
        let (int, frac) = written.split_once('.').map_or((written.as_str(), None), |(a, b)| (a, Some(b)));
        let grouped = crate::output::group_thousands(int.parse().unwrap());
        let text = match frac { Some(f) => format!("${grouped}.{f}"), None => format!("${grouped}") };
        let v2 = check(&format!("It was {text} in all."), &f);
        prop_assert!(v2.passed(), "{} vs {}", text, v);
        prop_assert_eq!(v2.numbers.len(), 1);
    }

    #[test]
    fn a_number_off_by_more_than_its_rounding_never_matches(v in 1.0f64..1_000_000.0, off in 1.0f64..1000.0) {
        let f = facts(serde_json::json!({"x": v}));
        let text = format!("about {:.0} customers", v + off + 0.5);
        prop_assert!(!check(&text, &f).passed());
    }

    #[test]
    fn any_text_scans_without_panicking(s in "\\PC{0,200}") {
        let _ = scan(&s);
    }
}
