//! `scudo ask`: which built-in use answers a question. The plan's five demo scenarios (overview,
//! at risk, analyse a customer, segments, what to do) go to the built-in queries; anything else is
//! a free question, for the model to turn into one read-only query.

/// Where a question goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// "Show me customer overview": the shop's narrative.
    Overview,
    /// "Which customers are at risk?"
    AtRisk,
    /// "Analyze Mike Johnson": the Customer 360 of whoever the rest of the question names.
    Customer(String),
    /// "Show VIP customers" (a segment's customers, by a word of its name) or segment performance.
    Segments(Option<String>),
    /// "What should I do about at-risk customers?"
    Actions,
    /// Anything else.
    Free,
}

/// Routes `question`; `segments` are the shop's segment names, to recognise "VIP customers".
pub fn route(question: &str, segments: &[String]) -> Route {
    let q = question.trim().trim_end_matches(['?', '.', '!']).trim();
    let lower = q.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric() && c != '-').filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    let any = |ws: &[&str]| ws.iter().any(|w| has(w));
    for verb in
        ["analyse ", "analyze ", "tell me about ", "show customer ", "customer profile ", "profile of ", "who is "]
    {
        if let Some(at) = lower.find(verb) {
            let who = q[at + verb.len()..].trim();
            let who = who.strip_prefix("customer ").unwrap_or(who).trim();
            if !who.is_empty() && who.split_whitespace().count() <= 4 {
                return Route::Customer(who.to_string());
            }
        }
    }
    if (lower.contains("what should")
        || lower.contains("what to do")
        || lower.contains("what can i do")
        || any(&["recommend", "recommendations", "actions"]))
        && (lower.contains("risk") || any(&["churn", "losing", "customers", "them"]))
    {
        return Route::Actions;
    }
    if lower.contains("at risk") || lower.contains("at-risk") || any(&["churn", "churning", "losing", "risky"]) {
        return Route::AtRisk;
    }
    // A segment by a word of its name: "VIP" finds VIP_HIGH_VALUE.
    if let Some(seg) = segments.iter().find(|s| {
        let name = s.to_lowercase();
        has(&name) || name.split('_').next().is_some_and(|first| first.len() >= 3 && has(first))
    }) {
        return Route::Segments(Some(seg.clone()));
    }
    if any(&["segment", "segments"]) {
        return Route::Segments(None);
    }
    if any(&["overview", "dashboard", "summary", "briefing", "insights"])
        || lower.contains("how is my shop")
        || lower.contains("how are we")
    {
        return Route::Overview;
    }
    Route::Free
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plans_five_scenarios_route_to_built_in_uses() {
        let segs = vec!["VIP_HIGH_VALUE".to_string(), "BUSINESS_PROF".to_string()];
        assert_eq!(route("Show me customer overview", &segs), Route::Overview);
        assert_eq!(route("Find customers at risk", &segs), Route::AtRisk);
        assert_eq!(route("which customers are at risk?", &segs), Route::AtRisk);
        assert_eq!(route("Analyze Mike Johnson", &segs), Route::Customer("Mike Johnson".into()));
        assert_eq!(route("analyse customer cust-000007", &segs), Route::Customer("cust-000007".into()));
        assert_eq!(route("Show VIP customers", &segs), Route::Segments(Some("VIP_HIGH_VALUE".into())));
        assert_eq!(route("How do my segments perform?", &segs), Route::Segments(None));
        assert_eq!(route("What should I do about at-risk customers?", &segs), Route::Actions);
        assert_eq!(route("How many orders were placed in September 2024?", &segs), Route::Free);
    }
}
