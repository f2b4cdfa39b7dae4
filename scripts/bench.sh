#!/usr/bin/env bash
# Runs one benchmark: npm run bench:<name>. Installs what it needs first, like the other entry points.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
node --enable-source-maps dist/src/cli/main.js setup --for "bench:$1" >&2 && exec node --enable-source-maps "dist/bench/$1.js" "${@:2}"
