-- name: campaigns.vip_escalation
-- description: For the owner: VIP and big customers whose spend dropped (half or less of the 90 days before) or whose churn risk rose since the previous scoring run, each with the reason.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, email, stage
--   kind          spend_drop or risk_rising
--   reason        in words
--   revenue       lifetime net revenue
-- The rules are those of alerts.all (queries/alerts/all.sql), for VIP, Active and big customers only.
WITH st AS (
    SELECT * FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
),
windows AS (
    SELECT customer_id,
        COALESCE(sum(value) FILTER (WHERE local_at >= CAST($as_of AS DATE) - 89), 0) AS last_90,
        COALESCE(sum(value) FILTER (WHERE local_at < CAST($as_of AS DATE) - 89), 0) AS previous_90
    FROM orders
    WHERE status IN ('completed', 'partially_refunded', 'refunded') AND value IS NOT NULL
      AND local_at >= CAST($as_of AS DATE) - 179
      AND local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
    GROUP BY customer_id
),
big AS (
    SELECT customer_id FROM st WHERE revenue > 0 QUALIFY percent_rank() OVER (ORDER BY revenue) >= 0.8
),
latest_run AS (
    SELECT run_id, as_of FROM score_runs WHERE as_of <= CAST($as_of AS DATE) ORDER BY as_of DESC, run_id DESC LIMIT 1
),
previous_run AS (
    SELECT run_id FROM score_runs WHERE as_of < (SELECT as_of FROM latest_run) ORDER BY as_of DESC, run_id DESC LIMIT 1
),
rank_of(stage, badness) AS (
    VALUES ('VIP', 0), ('Active', 0), ('New', 0), ('Prospect', 0), ('At-Risk', 1), ('Dormant', 2), ('Lost', 3)
),
rising AS (
    SELECT now_.customer_id,
        CASE WHEN rn.badness > rb.badness THEN 'stage went from ' || before.stage || ' to ' || now_.stage
             ELSE 'churn risk rose from ' || round(100 * before.churn_probability) || '% to ' || round(100 * now_.churn_probability) || '%'
        END AS reason
    FROM customer_scores now_
    JOIN customer_scores before ON before.customer_id = now_.customer_id
    JOIN rank_of rn ON rn.stage = now_.stage
    JOIN rank_of rb ON rb.stage = before.stage
    WHERE now_.run_id = (SELECT run_id FROM latest_run)
      AND before.run_id = (SELECT run_id FROM previous_run)
      AND (rn.badness > rb.badness OR now_.churn_probability - before.churn_probability >= 0.10)
)
SELECT x.customer_id, x.name, c.email, x.stage, x.kind, x.reason, x.revenue FROM (
SELECT 'spend_drop' AS kind, st.customer_id, st.name, st.stage,
       'spent ' || w.last_90 || ' in the last 90 days against ' || w.previous_90 || ' in the 90 before' AS reason, st.revenue
FROM st JOIN windows w ON w.customer_id = st.customer_id JOIN big b ON b.customer_id = st.customer_id
WHERE st.stage IN ('VIP', 'Active') AND w.previous_90 > 0 AND w.last_90 < 0.5 * w.previous_90
UNION ALL
SELECT 'risk_rising', st.customer_id, st.name, st.stage, r.reason, st.revenue
FROM rising r JOIN st ON st.customer_id = r.customer_id
WHERE st.stage = 'VIP' OR st.customer_id IN (SELECT customer_id FROM big)
) x JOIN customers c ON c.customer_id = x.customer_id
ORDER BY x.revenue DESC, x.customer_id;
