#!/usr/bin/env bash
# Makes the checkout runnable: fetches the pinned Node.js runtime (tools/versions.json `nodeRuntime`, the
# same one the images carry) so kstack, its tests and benches run on it whatever Node the host has,
# installs the locked npm dependencies when the lock file changed, and compiles the TypeScript when a
# source is newer than the last build. Idempotent and quiet when there is nothing to do, so every
# `kstack` call can afford it. Prints the pinned runtime's `node` path on stdout (its only stdout line).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The host's Node and npm only fetch the pinned runtime and the npm packages; nothing runs on them.
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "kstack: '$tool' is not on PATH; install Node.js with npm (any version from 18 on: kstack fetches the Node.js it runs on) and run again." >&2
    exit 1
  fi
done

cache="${KSTACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kstack}"
read -r pkg version integrity < <(node -e 'const p = require("./tools/versions.json").nodeRuntime; console.log(p.package, p.version, p.integrity)')
# Same layout as src/setup/npm-pack.ts, so the image builds reuse this download.
runtime_dir="$cache/npm/${pkg/\//+}@${version}/package"
node_bin="$runtime_dir/bin/node"
if [[ ! -x "$node_bin" ]]; then
  echo "kstack: fetching the pinned Node.js runtime (${pkg}@${version})…" >&2
  mkdir -p "$cache/npm"
  tmp="$(mktemp -d "$cache/npm/.tmp-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && npm pack "${pkg}@${version}" --silent >/dev/null 2>"$tmp/npm.err"); then
    echo "kstack: could not fetch ${pkg}@${version} with npm ($(head -c 300 "$tmp/npm.err" | tr '\n' ' ')); check that npm can reach its registry and run again." >&2
    exit 1
  fi
  tgz="$(ls "$tmp"/*.tgz)"
  actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [[ "$actual" != "$integrity" ]]; then
    echo "kstack: ${pkg}@${version} does not match the integrity pinned in tools/versions.json (got $actual); not using it." >&2
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp"
  mkdir -p "$(dirname "$runtime_dir")"
  rm -rf "$runtime_dir"
  mv "$tmp/package" "$runtime_dir"
  rm -rf "$tmp"
  trap - EXIT
fi
# Whatever is started by name from here on (npm scripts, child processes) finds the pinned node first.
export PATH="$runtime_dir/bin:$PATH"

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
  "$node_bin" node_modules/typescript/bin/tsc -b >&2
  mkdir -p dist && touch "$build_stamp"
fi
echo "$node_bin"
