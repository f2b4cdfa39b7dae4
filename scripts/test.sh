#!/usr/bin/env bash
# The test command (README): installs and builds everything the tests use (idempotent, cached), lints,
# then runs the test tiers on the pinned Node.js. Usage: npm test [-- unit|integration|e2e|all [PATH-PART...]]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node_bin="$(scripts/bootstrap.sh)"
export PATH="$(dirname "$node_bin"):$PATH"
"$node_bin" --enable-source-maps dist/src/cli/main.js setup
echo "▸ lint" >&2
"$node_bin" node_modules/eslint/bin/eslint.js --max-warnings=0 .
# Formatting (.prettierrc.json, width 120): unformatted code fails here; `npm run format` fixes it.
echo "▸ lint: formatting (prettier --check; fix with npm run format)" >&2
"$node_bin" node_modules/prettier/bin/prettier.cjs --check --log-level warn "src/**/*.ts" "test/**/*.ts" "bench/**/*.ts" "*.json" tools/versions.json .dependency-cruiser.mjs eslint.config.js
# The import rules (.dependency-cruiser.mjs, docs/dependencies.md): no cycle, no import against the layers.
"$node_bin" node_modules/dependency-cruiser/bin/dependency-cruise.mjs --config .dependency-cruiser.mjs src test bench
# The chart's documentation: README.md is what helm-docs writes from values.yaml (else: npm run chart:docs),
# and every value has a `# --` description and a values.schema.json entry (test/unit/chart/docs/).
echo "▸ lint: charts/webstack README.md, values.yaml and values.schema.json" >&2
"$node_bin" --enable-source-maps --test --test-reporter=spec dist/test/unit/chart/docs/values-docs.test.js
exec "$node_bin" --enable-source-maps dist/test/run.js "$@"
