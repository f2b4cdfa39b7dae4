#!/usr/bin/env bash
# Makes the checkout runnable: checks Node, installs the locked npm dependencies when the lock file
# changed, and compiles the TypeScript when a source is newer than the last build. Idempotent and quiet
# when there is nothing to do, so every `kstack` call can afford it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

need_major=20 need_minor=19
if ! command -v node >/dev/null 2>&1; then
  echo "kstack: Node.js >= ${need_major}.${need_minor} is required but 'node' is not on PATH; install Node.js and run again." >&2
  exit 1
fi
read -r major minor < <(node -p 'process.versions.node.split(".").slice(0,2).join(" ")')
if (( major < need_major || (major == need_major && minor < need_minor) )); then
  echo "kstack: Node.js >= ${need_major}.${need_minor} is required, found $(node --version); install a newer Node.js and run again." >&2
  exit 1
fi

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.kstack-lock.sha256
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  echo "kstack: installing npm dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > "$stamp"
fi

build_stamp=dist/.build-stamp
if [[ ! -f "$build_stamp" ]] || [[ -n "$(find src test bench tsconfig.json package-lock.json -newer "$build_stamp" \( -name '*.ts' -o -name '*.json' \) -print -quit 2>/dev/null)" ]]; then
  echo "kstack: compiling TypeScript…" >&2
  node_modules/.bin/tsc -b >&2
  mkdir -p dist && touch "$build_stamp"
fi
