#!/usr/bin/env bash
# Runs one benchmark: npm run bench:<name>. Installs what it needs first, like the other entry points.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
exec node --enable-source-maps "dist/bench/$1.js" "${@:2}"
