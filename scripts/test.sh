#!/usr/bin/env bash
# The test command (README): installs and builds everything the tests use (idempotent, cached), lints,
# then runs the test tiers. Usage: npm test [-- unit|integration|e2e|all [PATH-PART...]]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
node --enable-source-maps dist/src/cli/main.js setup
echo "▸ lint" >&2
node_modules/.bin/eslint --max-warnings=0 .
exec node --enable-source-maps dist/test/run.js "$@"
