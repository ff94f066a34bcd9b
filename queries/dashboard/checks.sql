-- description: The latest data check run (`scudo check`): its status, counts and how long ago it ran; no row when checks never ran.
-- params: now TIMESTAMP
-- columns:
--   run_id, started_at (UTC), as_of
--   status        pass, warn, error or broken: the worst result
--   checks, passed, warned, failed, broken, skipped
--   hours_ago     hours since it ran
SELECT run_id, started_at, as_of, status, checks, passed, warned, failed, broken, skipped,
    round(epoch(CAST($now AS TIMESTAMP) - started_at) / 3600.0, 1) AS hours_ago
FROM check_runs
ORDER BY run_id DESC
LIMIT 1
