#!/usr/bin/env bash
# The nightly data check: import the exports that landed, then check the data.
#
#   ./nightly-check.sh EXPORTS_DIR [JUNIT_FILE]
#
# Run it in the workspace (the directory holding scudo.toml). It exits with `scudo check`'s code:
# 0 every check passed · 1 warnings only · 2 a check failed at error level (or the import failed
# outright) · 3 a check could not run. Rows an import rejects are in rejects/ and do not stop the
# checks: the checks decide whether the data is good enough.
set -uo pipefail
exports="${1:?usage: nightly-check.sh EXPORTS_DIR [JUNIT_FILE]}"
junit="${2:-scudo-checks.xml}"

scudo ingest "$exports"
imported=$?
if [ "$imported" -ne 0 ] && [ "$imported" -ne 1 ]; then
    echo "nightly-check: nothing could be imported from $exports (exit $imported)" >&2
    exit "$imported"
fi
scudo check --junit "$junit" --store-failures
