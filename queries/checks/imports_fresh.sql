-- description: Each kind of export was imported recently: a warning after [freshness] warn_after_hours, an error after error_after_hours (per source or kind under [freshness.sources] in scudo.toml). Nothing imported at all is an error.
-- severity: error
-- owner: data
-- params: now TIMESTAMP
-- columns:
--   kind          the kind of export (shopify-orders, hubspot-contacts, …)
--   source        shopify, stripe, hubspot, salesforce or csv
--   last_import   when it was last imported (UTC)
--   hours_ago     hours since then
--   warn_after_hours, error_after_hours  its limits
--   severity      warn or error: which limit it is past
WITH latest AS (
    SELECT kind, source, max(finished_at) AS last_import
    FROM import_log
    GROUP BY kind, source
),
limits AS (
    -- check_freshness is provided by `scudo check` from the settings: one row per name under
    -- [freshness.sources] and '*' for the defaults.
    SELECT l.kind, l.source, l.last_import,
        round(epoch(CAST($now AS TIMESTAMP) - l.last_import) / 3600.0, 1) AS hours_ago,
        coalesce(k.warn_after_hours, s.warn_after_hours, d.warn_after_hours) AS warn_after_hours,
        coalesce(k.error_after_hours, s.error_after_hours, d.error_after_hours) AS error_after_hours
    FROM latest l
    LEFT JOIN check_freshness k ON k.name = l.kind
    LEFT JOIN check_freshness s ON s.name = l.source
    LEFT JOIN check_freshness d ON d.name = '*'
)
SELECT kind, source, last_import, hours_ago, warn_after_hours, error_after_hours,
    CASE WHEN hours_ago >= error_after_hours THEN 'error' ELSE 'warn' END AS severity
FROM limits
WHERE hours_ago >= warn_after_hours
UNION ALL
SELECT 'any', 'any', NULL, NULL, NULL, NULL, 'error'
WHERE NOT EXISTS (SELECT 1 FROM import_log)
ORDER BY severity, hours_ago DESC NULLS FIRST, kind
