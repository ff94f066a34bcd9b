-- description: The latest scoring run (churn, CLV, segments in the history) is newer than the latest import; run `scudo score` after importing. Passes when nothing has been scored yet.
-- severity: warn
-- owner: data
-- columns:
--   run_id, scored_at   the latest scoring run and when it ran (UTC)
--   last_import_at      the import it predates (UTC)
WITH last_run AS (
    SELECT run_id, created_at FROM score_runs ORDER BY created_at DESC, run_id DESC LIMIT 1
),
last_import AS (
    SELECT max(finished_at) AS at FROM import_log
)
SELECT r.run_id, r.created_at AS scored_at, i.at AS last_import_at
FROM last_run r, last_import i
WHERE i.at > r.created_at
