-- name: reports.check_status
-- description: The latest `scudo check` run on or before a date, for the digest's check status; no row when no data checks have run yet.
-- params: as_of DATE
-- columns:
--   run_id, started_at (UTC), checked_as_of (the run's as-of date)
--   status     pass, warn, error or broken: the worst result of the run
--   checks, passed, warned, failed, broken, skipped
SELECT
    run_id,
    started_at,
    as_of AS checked_as_of,
    status,
    checks,
    passed,
    warned,
    failed,
    broken,
    skipped
FROM check_runs
WHERE as_of <= CAST($as_of AS DATE)
ORDER BY started_at DESC, run_id DESC
LIMIT 1;
