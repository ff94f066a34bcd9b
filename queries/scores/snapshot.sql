-- name: scores.snapshot
-- description: The per-customer scores a `scudo score` run stores: stage, segments and RFM on a date.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, stage, segments (ids), recency_score, frequency_score, monetary_score, rfm, rfm_group
SELECT
    st.customer_id,
    st.stage,
    st.segment_ids AS segments,
    r.recency_score, r.frequency_score, r.monetary_score, r.rfm,
    CASE WHEN r.rfm IS NULL THEN 'Prospects' ELSE rfm_group(r.recency_score, r.frequency_score, r.monetary_score) END AS rfm_group
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor) st
LEFT JOIN rfm_scores($as_of, $currency) r ON r.customer_id = st.customer_id;
