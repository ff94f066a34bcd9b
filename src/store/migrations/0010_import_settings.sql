-- Issue 18: the same bytes imported with other settings (kind, mapping, encoding, sheet) are a
-- new import, so a re-import after fixing a wrong --source or mapping is not "unchanged".
-- NULL: imported before this column existed, with the default settings.
ALTER TABLE import_log ADD COLUMN IF NOT EXISTS settings VARCHAR;
