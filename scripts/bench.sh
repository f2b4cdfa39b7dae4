#!/usr/bin/env bash
# Runs one benchmark: npm run bench:<name>. Installs what it needs first (`kstack setup --for bench:<name>`),
# like the other entry points, and runs it on the pinned Node.js.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node_bin="$(scripts/bootstrap.sh)"
export PATH="$(dirname "$node_bin"):$PATH"
"$node_bin" --enable-source-maps dist/src/cli/main.js setup --for "bench:$1" >&2
exec "$node_bin" --enable-source-maps "dist/bench/$1.js" "${@:2}"
