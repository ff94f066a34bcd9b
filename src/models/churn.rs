//! Churn risk in words, and the rule-based estimate for customers the model cannot speak for.

/// Risk bands: below 33% low, 33–66% medium, above 66% high.
pub fn band(p: f64) -> &'static str {
    if p < 0.33 {
        "low"
    } else if p <= 0.66 {
        "medium"
    } else {
        "high"
    }
}

/// What the reasons are computed from (queries/models/features.sql).
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub orders: i64,
    pub days_since_last: Option<i64>,
    pub typical_gap_days: Option<i64>,
    /// Orders per year in the recent half of the customer's history against the earlier half.
    pub frequency_ratio: Option<f64>,
    /// Average order value of the recent half against the earlier half.
    pub spend_ratio: Option<f64>,
    pub discount_share: Option<f64>,
    /// Spend per day of the recent half against the earlier half (the CLV trend).
    pub spend_rate_ratio: Option<f64>,
}

/// The reasons behind a customer's churn risk, most telling first.
pub fn reasons(f: &Features) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(days), Some(gap)) = (f.days_since_last, f.typical_gap_days)
        && gap > 0
        && days as f64 > 1.5 * gap as f64
    {
        out.push(format!("no order for {days} days against a usual gap of {gap}"));
    }
    if let Some(r) = f.frequency_ratio
        && r < 0.67
    {
        out.push(format!("buying less often: {:.0}% of their earlier pace", r * 100.0));
    }
    if let Some(r) = f.spend_ratio
        && r < 0.75
    {
        out.push(format!("spending less per order: {:.0}% of their earlier average", r * 100.0));
    }
    if let Some(d) = f.discount_share
        && d >= 0.5
        && f.orders >= 2
    {
        out.push(format!("discount dependence: {:.0}% of orders used a discount", d * 100.0));
    }
    if out.is_empty() && f.orders == 1 {
        out.push("one purchase so far".to_string());
    }
    out
}

/// Rule-based estimate when the model cannot be used (too few repeat buyers to fit, or no
/// history), as docs/models.md states it: the share of the customer's usual gap already elapsed
/// (days since the last order ÷ usual gap; one-time buyers against `horizon_days`), rounded to 10%
/// so it claims no precision it does not have, and kept within 10–90%: a rule this coarse claims
/// neither that a customer is certainly staying nor certainly gone. Due (100% of the gap) or
/// overdue reads as 90%, high; half the gap, 50%, medium.
pub fn rule_based(days_since_last: i64, typical_gap_days: Option<i64>, horizon_days: i64) -> f64 {
    let gap = typical_gap_days.filter(|g| *g > 0).unwrap_or(horizon_days).max(1) as f64;
    let share = days_since_last.max(0) as f64 / gap;
    ((share * 10.0).round() / 10.0).clamp(0.1, 0.9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_reasons() {
        assert_eq!(band(0.2), "low");
        assert_eq!(band(0.5), "medium");
        assert_eq!(band(0.7), "high");
        let r = reasons(&Features {
            orders: 12,
            days_since_last: Some(80),
            typical_gap_days: Some(40),
            frequency_ratio: Some(0.5),
            spend_ratio: Some(0.9),
            discount_share: Some(0.67),
            spend_rate_ratio: None,
        });
        assert_eq!(r.len(), 3, "{r:?}");
        assert!(r[0].contains("80 days") && r[2].contains("discount"));
        // The share of the usual gap elapsed, rounded to 10%, within 10–90%.
        assert_eq!(rule_based(10, Some(40), 90), 0.3, "a quarter of the gap, 25%, rounds to 30%");
        assert_eq!(rule_based(20, Some(40), 90), 0.5);
        assert_eq!(rule_based(90, Some(147), 90), 0.6, "Robert on the demo: 90 of 147 days");
        assert_eq!(rule_based(65, Some(48), 90), 0.9, "overdue: capped");
        assert_eq!(rule_based(400, Some(40), 90), 0.9);
        assert_eq!(rule_based(0, Some(40), 90), 0.1, "just bought: floored");
        assert_eq!(rule_based(45, None, 90), 0.5, "a one-time buyer against the horizon");
    }
}
