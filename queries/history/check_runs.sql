-- description: The recorded data check runs (`scudo check history`), newest first.
-- params: limit INTEGER
-- columns:
--   run_id, started_at (UTC), as_of
--   status        pass, warn, error or broken: the worst result
--   checks, passed, warned, failed, broken, skipped
--   seconds       how long the run took
--   not_passing   the checks that warned, failed or could not run
SELECT r.run_id, r.started_at, r.as_of, r.status, r.checks, r.passed, r.warned, r.failed, r.broken, r.skipped,
    round(r.duration_ms / 1000.0, 2) AS seconds,
    (SELECT list(c.name || ' (' || c.status || ')' ORDER BY c.name) FROM check_results c
     WHERE c.run_id = r.run_id AND c.status IN ('warn', 'error', 'broken')) AS not_passing
FROM check_runs r
ORDER BY r.run_id DESC
LIMIT $limit
