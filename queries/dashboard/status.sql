-- name: dashboard.status
-- description: How fresh the data is: the last import and the last scoring run, and hours since each (the page's "data as of … / last import …" line).
-- params: now TIMESTAMP
-- columns:
--   imports            how many imports were recorded
--   last_import_at     when the last import finished (UTC)
--   last_import_file, last_import_kind
--   hours_since_import hours from the last import to now
--   last_score_at      when the last `scudo score` ran (UTC), last_score_as_of the date it scored
SELECT (SELECT count(*) FROM import_log) AS imports,
       i.finished_at AS last_import_at, i.file_name AS last_import_file, i.kind AS last_import_kind,
       round(epoch(CAST($now AS TIMESTAMP) - i.finished_at) / 3600.0, 1) AS hours_since_import,
       (SELECT max(created_at) FROM score_runs) AS last_score_at,
       (SELECT max(as_of) FROM score_runs) AS last_score_as_of
FROM (SELECT 1) AS one
LEFT JOIN (SELECT * FROM import_log ORDER BY finished_at DESC, import_id DESC LIMIT 1) i ON true;
