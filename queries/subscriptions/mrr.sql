-- name: subscriptions.mrr
-- description: Monthly recurring revenue per calendar month (the workspace's time zone) for the `months` months ending with the as-of date's month: MRR at the start and end, new, expansion, contraction, churned and reactivated MRR, logo churn and net revenue retention (docs/mrr.md).
-- params: as_of DATE, months INTEGER
-- columns:
--   month                  its first day; its MRR is measured at its end (at the as-of date for the as-of month)
--   label                  e.g. `Oct 2024`
--   currency               the subscriptions' currency (one row per month and currency; never converted)
--   start_mrr              MRR at the end of the month before
--   new_mrr                customers from 0 to >0 who never had MRR at an earlier month end
--   reactivation_mrr       customers from 0 to >0 who had MRR at an earlier month end
--   expansion_mrr          customers whose MRR grew (both months > 0): the increase
--   contraction_mrr        customers whose MRR shrank (both months > 0): the decrease
--   churned_mrr            customers from >0 to 0: their MRR of the month before
--   end_mrr                MRR at the end of the month = start + new + reactivation + expansion − contraction − churned
--   net_new_mrr            end_mrr − start_mrr
--   customers_start, customers_end   customers with MRR > 0 at the start and the end
--   new_customers, reactivated_customers, churned_customers
--   logo_churn_pct         churned_customers / customers_start, % (empty when no customer had MRR at the start)
--   nrr_pct                (start + expansion − contraction − churned) / start, % (empty when start is 0)
-- A subscription's MRR is unit amount × quantity for one interval, normalised to a month
-- (year ÷ 12, week × 52 ÷ 12, day × 365 ÷ 12, each ÷ the interval count) and rounded to cents.
-- It counts at a month end when billing had started (after any trial) and it had not ended.
WITH
-- The workspace zone's offset at an instant (tz_offsets: one row per transition); UTC without one.
offsets AS (
    SELECT utc_from, offset_minutes FROM tz_offsets
    UNION ALL SELECT '-infinity'::TIMESTAMP, 0 WHERE NOT EXISTS (SELECT 1 FROM tz_offsets)
),
-- Month ends as local instants: the first instant of the next month, or the day after as_of.
ends AS (
    SELECT i,
           CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL (CAST(i AS INTEGER)) MONTH AS DATE) AS month,
           least(CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL (CAST(i AS INTEGER)) MONTH + INTERVAL 1 MONTH AS TIMESTAMP),
                 CAST(CAST($as_of AS DATE) + INTERVAL 1 DAY AS TIMESTAMP)) AS end_local
    FROM range(0, CAST($months AS INTEGER) + 1) t(i)
),
-- The same instants in UTC, to compare with the subscriptions' UTC timestamps.
ends_utc AS (
    SELECT e.i, e.month, e.end_local - to_minutes(z.offset_minutes) AS end_at
    FROM ends e ASOF JOIN offsets z ON e.end_local >= z.utc_from
),
subs AS (
    SELECT customer_id, COALESCE(currency, '') AS currency,
           -- Billing starts when the trial ends; a subscription still trialing without an end never bills.
           CASE WHEN status = 'trialing' AND trial_end IS NULL THEN 'infinity'::TIMESTAMP
                ELSE greatest(started_at, COALESCE(trial_end, started_at)) END AS paying_from,
           COALESCE(ended_at,
                    CASE WHEN status = 'canceled' THEN COALESCE(canceled_at, current_period_end, started_at)
                         WHEN status IN ('unpaid', 'paused') THEN current_period_end END) AS ended,
           CAST(round(unit_amount * quantity * CASE billing_interval
                    WHEN 'month' THEN 1.0
                    WHEN 'year' THEN 1.0 / 12
                    WHEN 'week' THEN 52.0 / 12
                    WHEN 'day' THEN 365.0 / 12 END / interval_count, 2) AS DECIMAL(18,2)) AS mrr
    FROM subscriptions
    WHERE status NOT IN ('incomplete', 'incomplete_expired')
),
-- The first month end (UTC) at which each subscription counted, if it ever did: the end of the
-- local month billing started in, when the subscription had not ended by then.
first_ends AS (
    SELECT s.customer_id, s.currency, s.ended,
           CAST(date_trunc('month', s.paying_from + to_minutes(z.offset_minutes)) + INTERVAL 1 MONTH AS TIMESTAMP) AS end_local
    FROM subs s ASOF JOIN offsets z ON s.paying_from >= z.utc_from
    WHERE s.paying_from < 'infinity'::TIMESTAMP
),
firsts AS (
    SELECT f.customer_id, f.currency, min(f.end_local - to_minutes(z.offset_minutes)) AS first_end
    FROM first_ends f ASOF JOIN offsets z ON f.end_local >= z.utc_from
    WHERE f.ended IS NULL OR f.ended >= f.end_local - to_minutes(z.offset_minutes)
    GROUP BY f.customer_id, f.currency
),
per_customer AS (
    SELECT e.i, e.month, s.customer_id, s.currency,
           COALESCE(sum(s.mrr) FILTER (WHERE s.paying_from < e.end_at AND (s.ended IS NULL OR s.ended >= e.end_at)), 0) AS mrr
    FROM ends_utc e CROSS JOIN subs s
    GROUP BY e.i, e.month, s.customer_id, s.currency
),
moves AS (
    SELECT c.i, c.month, c.customer_id, c.currency,
           COALESCE(p.mrr, 0) AS prev, COALESCE(c.mrr, 0) AS cur,
           f.first_end IS NOT NULL AND f.first_end <= pe.end_at AS paid_before
    FROM per_customer c
    JOIN ends_utc pe ON pe.i = c.i + 1
    LEFT JOIN per_customer p ON p.i = c.i + 1 AND p.customer_id = c.customer_id AND p.currency = c.currency
    LEFT JOIN firsts f ON f.customer_id = c.customer_id AND f.currency = c.currency
    WHERE c.i < CAST($months AS INTEGER)
),
totals AS (
    SELECT i, month, currency,
           sum(prev) AS start_mrr,
           sum(cur) FILTER (WHERE prev = 0 AND cur > 0 AND NOT paid_before) AS new_mrr,
           sum(cur) FILTER (WHERE prev = 0 AND cur > 0 AND paid_before) AS reactivation_mrr,
           sum(cur - prev) FILTER (WHERE prev > 0 AND cur > prev) AS expansion_mrr,
           sum(prev - cur) FILTER (WHERE cur > 0 AND cur < prev) AS contraction_mrr,
           sum(prev) FILTER (WHERE prev > 0 AND cur = 0) AS churned_mrr,
           sum(cur) AS end_mrr,
           count(*) FILTER (WHERE prev > 0) AS customers_start,
           count(*) FILTER (WHERE cur > 0) AS customers_end,
           count(*) FILTER (WHERE prev = 0 AND cur > 0 AND NOT paid_before) AS new_customers,
           count(*) FILTER (WHERE prev = 0 AND cur > 0 AND paid_before) AS reactivated_customers,
           count(*) FILTER (WHERE prev > 0 AND cur = 0) AS churned_customers
    FROM moves
    GROUP BY i, month, currency
),
-- Every month of the window, for every currency seen, with zeros where nothing happened.
grid AS (
    SELECT e.i, e.month, c.currency
    FROM ends e CROSS JOIN (SELECT DISTINCT currency FROM subs) c
    WHERE e.i < CAST($months AS INTEGER)
)
SELECT
    g.month,
    strftime(g.month, '%b %Y') AS label,
    g.currency,
    COALESCE(t.start_mrr, 0)::DECIMAL(18,2) AS start_mrr,
    COALESCE(t.new_mrr, 0)::DECIMAL(18,2) AS new_mrr,
    COALESCE(t.reactivation_mrr, 0)::DECIMAL(18,2) AS reactivation_mrr,
    COALESCE(t.expansion_mrr, 0)::DECIMAL(18,2) AS expansion_mrr,
    COALESCE(t.contraction_mrr, 0)::DECIMAL(18,2) AS contraction_mrr,
    COALESCE(t.churned_mrr, 0)::DECIMAL(18,2) AS churned_mrr,
    COALESCE(t.end_mrr, 0)::DECIMAL(18,2) AS end_mrr,
    (COALESCE(t.end_mrr, 0) - COALESCE(t.start_mrr, 0))::DECIMAL(18,2) AS net_new_mrr,
    COALESCE(t.customers_start, 0) AS customers_start,
    COALESCE(t.customers_end, 0) AS customers_end,
    COALESCE(t.new_customers, 0) AS new_customers,
    COALESCE(t.reactivated_customers, 0) AS reactivated_customers,
    COALESCE(t.churned_customers, 0) AS churned_customers,
    CASE WHEN COALESCE(t.customers_start, 0) > 0
         THEN round(100.0 * t.churned_customers / t.customers_start, 1) END AS logo_churn_pct,
    CASE WHEN COALESCE(t.start_mrr, 0) > 0
         THEN round(100.0 * (t.start_mrr + COALESCE(t.expansion_mrr, 0) - COALESCE(t.contraction_mrr, 0)
                             - COALESCE(t.churned_mrr, 0)) / t.start_mrr, 1) END AS nrr_pct
FROM grid g
LEFT JOIN totals t ON t.i = g.i AND t.currency = g.currency
ORDER BY g.month, g.currency;
