-- description: Net revenue of the last complete week (Monday to Sunday, shop time) is within mean ± 3 standard deviations of the 8 weeks before it; a week outside the band is often a partial or doubled export rather than a real change. Needs 8 weeks of history before that week.
-- severity: warn
-- owner: data
-- columns:
--   week          the Monday the week starts on
--   revenue       its net revenue (reporting currency)
--   mean, sd      of the 8 weeks before it
--   low, high     the band: mean ± 3 sd (never below 0)
-- Change k and weeks below to tune it (copy this file to your workspace's queries/checks/).
WITH settings AS (SELECT 3.0 AS k, CAST(8 AS INTEGER) AS weeks),
last_week AS (
    SELECT date_trunc('week', CAST($as_of AS DATE))::DATE - 7 AS week
),
weekly AS (
    SELECT date_trunc('week', local_at)::DATE AS week, sum(value) AS revenue
    FROM orders, last_week, settings
    WHERE status IN ('completed', 'partially_refunded', 'refunded') AND value IS NOT NULL
      AND local_at >= last_week.week - 7 * settings.weeks
      AND local_at < last_week.week + 7
    GROUP BY 1
),
grid AS (
    SELECT (last_week.week - 7 * CAST(i AS INTEGER))::DATE AS week, i
    FROM last_week, settings, range(0, settings.weeks + 1) AS r(i)
),
filled AS (
    SELECT g.week, g.i, coalesce(w.revenue, 0) AS revenue FROM grid g LEFT JOIN weekly w USING (week)
),
band AS (
    SELECT avg(revenue) AS mean, coalesce(stddev_samp(revenue), 0) AS sd FROM filled WHERE i > 0
),
history AS (
    SELECT min(local_at) AS first_order FROM orders WHERE value IS NOT NULL
)
SELECT f.week, round(f.revenue, 2) AS revenue, round(b.mean, 2) AS mean, round(b.sd, 2) AS sd,
    round(greatest(b.mean - s.k * b.sd, 0), 2) AS low, round(b.mean + s.k * b.sd, 2) AS high
FROM filled f, band b, settings s, history h, last_week l
WHERE f.i = 0
  AND h.first_order < l.week - 7 * s.weeks
  AND (f.revenue < b.mean - s.k * b.sd OR f.revenue > b.mean + s.k * b.sd)
