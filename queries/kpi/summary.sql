-- name: kpi.summary
-- description: Headline KPIs for the period ending on as_of, next to the period of the same length before it.
-- params: as_of DATE, period_days INTEGER, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   period_start, period_end, previous_start, previous_end   the two periods (inclusive dates)
--   <metric> and <metric>_previous for customers, active, new, at_risk, dormant, revenue, orders,
--   average_order_value and repeat_purchase_rate (see base.period_kpis)
WITH bounds AS (
    SELECT CAST($as_of AS DATE) AS e,
           CAST($as_of AS DATE) - CAST($period_days AS INTEGER) + 1 AS s,
           CAST($as_of AS DATE) - CAST($period_days AS INTEGER) AS pe,
           CAST($as_of AS DATE) - 2 * CAST($period_days AS INTEGER) + 1 AS ps
),
cur AS (
    SELECT * FROM period_kpis((SELECT s FROM bounds), (SELECT e FROM bounds), $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
),
prev AS (
    SELECT * FROM period_kpis((SELECT ps FROM bounds), (SELECT pe FROM bounds), $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
)
SELECT
    b.s AS period_start, b.e AS period_end, b.ps AS previous_start, b.pe AS previous_end,
    cur.customers, prev.customers AS customers_previous,
    cur.active, prev.active AS active_previous,
    cur.new, prev.new AS new_previous,
    cur.at_risk, prev.at_risk AS at_risk_previous,
    cur.dormant, prev.dormant AS dormant_previous,
    cur.revenue, prev.revenue AS revenue_previous,
    cur.orders, prev.orders AS orders_previous,
    cur.average_order_value, prev.average_order_value AS average_order_value_previous,
    cur.repeat_purchase_rate, prev.repeat_purchase_rate AS repeat_purchase_rate_previous
FROM bounds b, cur, prev;
