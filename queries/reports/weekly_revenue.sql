-- name: reports.weekly_revenue
-- description: Revenue and purchases per week for the `weeks` weeks ending on a date (each week ends on the as-of date's weekday), empty weeks included.
-- params: as_of DATE, weeks INTEGER
-- columns:
--   week_start, week_end   the week (inclusive dates, the shop's calendar)
--   week                   its label, e.g. `30 Sep`
--   revenue, orders        purchases inside it (reporting currency; orders without a rate left out)
WITH weeks AS (
    SELECT CAST($as_of AS DATE) - 7 * CAST(i AS INTEGER) - 6 AS week_start,
           CAST($as_of AS DATE) - 7 * CAST(i AS INTEGER) AS week_end
    FROM range(0, CAST($weeks AS INTEGER)) t(i)
),
p AS (
    SELECT CAST(o.local_at AS DATE) AS day, o.value
    FROM orders o
    WHERE o.status IN ('completed', 'partially_refunded', 'refunded') AND o.value IS NOT NULL
      AND o.local_at >= CAST($as_of AS DATE) - 7 * CAST($weeks AS INTEGER) + 1
      AND o.local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
)
SELECT
    w.week_start,
    w.week_end,
    strftime(w.week_start, '%-d %b') AS week,
    COALESCE(sum(p.value), 0)::DECIMAL(18,2) AS revenue,
    count(p.value) AS orders
FROM weeks w
LEFT JOIN p ON p.day BETWEEN w.week_start AND w.week_end
GROUP BY ALL
ORDER BY w.week_start;
