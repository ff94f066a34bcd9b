//! Churn risk in words, and the rule-based estimate for customers the model cannot speak for.

/// Risk bands: below 20% low, 20–50% medium, above 50% high. A customer with one chance in four of
/// being gone is worth a call (the plan's Customer 360 reads "Churn Risk: 25% (Medium)"); above
/// even odds, more likely gone than not.
pub fn band(p: f64) -> &'static str {
    if p < 0.2 {
        "low"
    } else if p <= 0.5 {
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

/// Each purchase ends a customer's life with this chance in the rule-based estimate: a prior, not a
/// fit (with fewer repeat buyers than a model needs there is nothing to fit it to). One customer in
/// ten stopping after any given order is within what BG/NBD fits on retail data find.
pub const RULE_DROPOUT: f64 = 0.1;

/// Rule-based estimate when the model cannot be used (too few repeat buyers to fit, or no
/// history), as docs/models.md states it: the chance the customer has already stopped buying, by
/// the BG/NBD's own reasoning with the customer's own pace in place of fitted parameters. After
/// each purchase a customer stops with chance [`RULE_DROPOUT`] (p); one still buying orders at
/// their usual rate, 1/gap (one-time buyers: 1/`horizon_days`), so the silence of
/// `days_since_last` days has chance e^(−days/gap) for them and 1 for one who stopped:
/// P(stopped | silence) = p / (p + (1 − p)·e^(−days/gap)). Rounded to 5% so it claims no
/// precision it does not have, and kept within 5–95%: a rule this coarse claims neither that a
/// customer certainly stays nor that they are certainly gone. Due (one gap of silence) reads 23%,
/// twice overdue 45%, three gaps 69%.
pub fn rule_based(days_since_last: i64, typical_gap_days: Option<i64>, horizon_days: i64) -> f64 {
    let gap = typical_gap_days.filter(|g| *g > 0).unwrap_or(horizon_days).max(1) as f64;
    let silence = (-(days_since_last.max(0) as f64) / gap).exp();
    let p = RULE_DROPOUT / (RULE_DROPOUT + (1.0 - RULE_DROPOUT) * silence);
    ((p * 20.0).round() / 20.0).clamp(0.05, 0.95)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_reasons() {
        assert_eq!(band(0.19), "low");
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
        assert_eq!(band(0.25), "medium", "the plan's Mike Johnson: 25% (Medium)");
        assert_eq!(band(0.1), "low");
        // P(stopped | silence) = p / (p + (1 − p)·e^(−days/gap)), p = 0.1, rounded to 5%, 5–95%.
        // Mike Johnson on the demo: 57 days against 47: 0.1 / (0.1 + 0.9·e^(−57/47)) = 0.272 → 25%.
        assert_eq!(rule_based(57, Some(47), 90), 0.25);
        // Lisa Thompson: 65 days against 48: 0.1 / (0.1 + 0.9·e^(−65/48)) = 0.301 → 30%.
        assert_eq!(rule_based(65, Some(48), 90), 0.3);
        // Robert Wilson: 90 days against his usual 147: not yet due, 0.170 → 15%.
        assert_eq!(rule_based(90, Some(147), 90), 0.15);
        assert_eq!(rule_based(40, Some(40), 90), 0.25, "due: 0.232 → 25%");
        assert_eq!(rule_based(120, Some(40), 90), 0.7, "three gaps of silence: 0.691 → 70%");
        assert_eq!(rule_based(400, Some(40), 90), 0.95, "long gone: capped");
        assert_eq!(rule_based(0, Some(40), 90), 0.1, "just bought: the prior itself");
        assert_eq!(rule_based(-3, Some(40), 90), 0.1, "a clock behind the last order reads as just bought");
        assert_eq!(rule_based(45, None, 90), 0.15, "a one-time buyer against the horizon: 0.155");
        // More silence never lowers the risk.
        let mut last = 0.0;
        for days in 0..1000 {
            let p = rule_based(days, Some(30), 90);
            assert!(p >= last && (0.05..=0.95).contains(&p), "{days}: {p}");
            last = p;
        }
    }
}
