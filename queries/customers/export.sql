-- name: customers.export
-- description: Every customer with contact details and scores, for a CRM import: stage, segments, RFM, churn band and CLV from the latest scoring run on or before a date (stage and RFM computed on the date when there is none); optionally one segment and/or one stage.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, segment TEXT, stage TEXT
-- columns:
--   customer_id, email, first_name, last_name, name, phone, company, city, region, country
--   stage             lifecycle stage (scored, else on as_of)
--   segments          segment names, sorted
--   rfm               the three RFM digits, e.g. 545
--   churn_band, churn_probability, clv   from the latest scoring run (empty when never scored)
--   orders, revenue   on as_of
--   scored_as_of      the date of the scoring run used, if any
--   tags, notes       the team's own tags (sorted) and notes (oldest first, one per line) from `scudo serve` and `scudo customer ID tag|note`
-- `segment` (id or name, any case) and `stage` filter; '' means all.
WITH latest_run AS (
    SELECT run_id, as_of FROM score_runs WHERE as_of <= CAST($as_of AS DATE) ORDER BY as_of DESC, run_id DESC LIMIT 1
),
scored AS (
    SELECT * FROM customer_scores WHERE run_id = (SELECT run_id FROM latest_run)
),
st AS (
    SELECT * FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue)
),
picked AS (
    SELECT st.customer_id, st.orders, st.revenue,
        COALESCE(sc.stage, st.stage) AS stage,
        COALESCE(sc.segments, st.segment_ids) AS segment_ids,
        sc.rfm AS scored_rfm, sc.churn_band, sc.churn_probability, sc.clv
    FROM st LEFT JOIN scored sc ON sc.customer_id = st.customer_id
),
names AS (
    SELECT p.customer_id, list(s.name ORDER BY s.name) AS segments
    FROM (SELECT customer_id, unnest(segment_ids) AS segment_id FROM picked) p
    JOIN segments s ON s.segment_id = p.segment_id
    GROUP BY p.customer_id
),
wanted AS (
    SELECT p.* FROM picked p
    WHERE ($stage = '' OR lower(p.stage) = lower($stage))
      AND ($segment = '' OR EXISTS (
            SELECT 1 FROM segments s
            WHERE list_contains(p.segment_ids, s.segment_id)
              AND (s.segment_id = $segment OR lower(s.name) = lower($segment))))
)
SELECT c.customer_id, c.email, c.first_name, c.last_name, c.name, c.phone, c.company, c.city, c.region, c.country,
    w.stage, COALESCE(n.segments, []) AS segments,
    COALESCE(w.scored_rfm, r.rfm) AS rfm,
    w.churn_band, round(w.churn_probability, 3) AS churn_probability, w.clv,
    w.orders, w.revenue,
    (SELECT as_of FROM latest_run) AS scored_as_of,
    COALESCE((SELECT list(t.tag ORDER BY t.tag) FROM customer_tags t WHERE t.customer_id = c.customer_id), []) AS tags,
    -- One cell, a line per note: a note may hold the list separator `;`.
    (SELECT string_agg(n.body, chr(10) ORDER BY n.created_at, n.note_id) FROM customer_notes n WHERE n.customer_id = c.customer_id) AS notes
FROM wanted w
JOIN customers c ON c.customer_id = w.customer_id
LEFT JOIN names n ON n.customer_id = w.customer_id
LEFT JOIN rfm_scores($as_of, $currency) r ON r.customer_id = w.customer_id
ORDER BY w.revenue DESC, c.customer_id;
