#!/usr/bin/env bash
# First run, measured: clone this checkout's HEAD into a temporary folder and time `./kstack up` from
# the clone to the page URL with every cache empty (kstack's, Go's build and module caches, npm's, apt's
# downloaded packages), as a new user on a fresh machine would see it. Writes
# docs/benchmarks/first-run.json and first-run.md (commit, date, machine, time to page, the steps).
#
#   scripts/first-run-bench.sh [--remove-packages] [--keep]
#     --remove-packages  also `apt-get remove` mmdebstrap, containerd and runc first (`up` must install
#                        them); refused while a containerd runs. Whatever was removed and is still missing
#                        at the end is installed again.
#     --keep             keep the temporary folder (clone, caches, log) for inspection
#
# Needs root (the local cluster's nodes are network namespaces) and the whole machine for ~15 minutes:
# other builds or clusters running at the same time slow it down and make the figure meaningless.
# `up` has no --name, so the cluster is the default 'kstack', isolated by KSTACK_STATE_DIR; the script
# refuses to start while a cluster named 'kstack' has nodes on this host, and removes its own at the end.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
remove_packages=0
keep=0
for arg in "$@"; do
  case "$arg" in
    --remove-packages) remove_packages=1 ;;
    --keep) keep=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "first-run-bench: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "first-run-bench: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root: 'kstack up' creates network namespaces"
command -v git >/dev/null || die "git is needed to clone the checkout"
command -v go >/dev/null || [[ -n ${KSTACK_GO:-} ]] || die "no Go toolchain on PATH (or KSTACK_GO): kstack compiles its components with it"
if ip netns list 2>/dev/null | grep -q '^kstack-kstack-'; then
  die "a cluster named 'kstack' has nodes on this host; remove it ('./kstack cluster down') and run again"
fi
packages=(mmdebstrap containerd runc)
if (( remove_packages )) && pgrep -x containerd >/dev/null; then
  die "--remove-packages: a containerd is running (another cluster?); stop it first, or run without the flag"
fi
commit="$(git -C "$root" rev-parse HEAD)"
if [[ -n $(git -C "$root" status --porcelain --untracked-files=no) ]]; then
  echo "first-run-bench: note: uncommitted changes are not measured; the clone is commit ${commit:0:12}" >&2
fi

work="$(mktemp -d /tmp/kstack-first-run.XXXXXX)"
clone="$work/kstack"
log="$work/up.log"
removed=()
up_pid=""
tail_pid=""
export KSTACK_CACHE_DIR="$work/cache/kstack" GOCACHE="$work/cache/go-build" GOMODCACHE="$work/cache/go-mod" \
  npm_config_cache="$work/cache/npm" KSTACK_STATE_DIR="$work/state"
mkdir -p "$KSTACK_CACHE_DIR" "$GOCACHE" "$GOMODCACHE" "$npm_config_cache" "$KSTACK_STATE_DIR"

# Everything this script started goes again: `up` if it is still running, the cluster, packages it
# removed, the temporary folder (module cache files are read-only, hence the chmod).
cleanup() {
  local rc=$?
  set +e
  if [[ -n $up_pid ]] && kill -0 "$up_pid" 2>/dev/null; then
    # Its process group (a background job of a script ignores SIGINT); the pid alone if setsid had to fork.
    kill -TERM -- "-$up_pid" 2>/dev/null || kill -TERM "$up_pid"
    wait "$up_pid" 2>/dev/null
  fi
  [[ -n $tail_pid ]] && kill "$tail_pid" 2>/dev/null
  if [[ -x $clone/kstack && -d $KSTACK_STATE_DIR/kstack ]]; then
    echo "first-run-bench: removing the benchmark's cluster" >&2
    (cd "$clone" && ./kstack cluster down) >&2
  fi
  local missing=()
  for p in "${removed[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    echo "first-run-bench: installing again what was removed: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
  if (( rc != 0 )) && [[ -f $log ]]; then
    cp "$log" "/tmp/kstack-first-run-$(date +%Y%m%d-%H%M%S).log" && echo "first-run-bench: the log is in /tmp/kstack-first-run-*.log" >&2
  fi
  if (( keep )); then
    echo "first-run-bench: kept $work" >&2
  else
    chmod -R u+w "$work" 2>/dev/null
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

apt-get clean
if (( remove_packages )); then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed && removed+=("$p")
  done
  if (( ${#removed[@]} )); then
    echo "first-run-bench: apt-get remove ${removed[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "${removed[@]}" >&2
  fi
fi

now() { date +%s.%N; }
started="$(now)"
git clone --quiet --no-hardlinks "$root" "$clone"
git -C "$clone" checkout --quiet --detach "$commit"

# `up` writes to a log that is shown as it grows; the page line is looked for once a second. It runs in
# a session of its own, so stopping it early also stops what it runs (go build, mmdebstrap).
setsid bash -c 'cd "$1" && exec ./kstack up --no-watch' up "$clone" >"$log" 2>&1 &
up_pid=$!
tail -n +1 -f --pid="$up_pid" "$log" &
tail_pid=$!
page_at=""
while kill -0 "$up_pid" 2>/dev/null; do
  [[ -z $page_at ]] && grep -q '^  page: ' "$log" && page_at="$(now)"
  sleep 1
done
up_rc=0
wait "$up_pid" || up_rc=$?
up_pid=""
ended="$(now)"
wait "$tail_pid" 2>/dev/null || true
tail_pid=""
[[ -z $page_at ]] && grep -q '^  page: ' "$log" && page_at="$ended"
(( up_rc == 0 )) || die "'kstack up' failed (exit $up_rc); see the log above"
[[ -n $page_at ]] || die "'kstack up' ended without printing the page URL"

mkdir -p "$root/docs/benchmarks"
BENCH_COMMIT="$commit" BENCH_STARTED="$started" BENCH_PAGE_AT="$page_at" BENCH_ENDED="$ended" BENCH_REMOVED="${removed[*]}" \
BENCH_GO="$("${KSTACK_GO:-go}" version | awk '{print $3}')" BENCH_FLAGS="$*" \
  node - "$root/docs/benchmarks" "$log" <<'EOF'
const fs = require('node:fs');
const os = require('node:os');
const [outDir, log] = process.argv.slice(2);
const env = process.env;
// Top-level steps as kstack printed them ("✓ title (1m02s)"), and the lanes' own steps, indented.
const steps = fs.readFileSync(log, 'utf8').split('\n').filter((l) => /^ *✓ /.test(l) || /^  [\w-]+:$/.test(l)).map((l) => l.trimEnd());
const cloneToPageSeconds = Number(env.BENCH_PAGE_AT) - Number(env.BENCH_STARTED);
const targetSeconds = 15 * 60;
const result = {
  bench: 'first-run',
  commit: env.BENCH_COMMIT,
  date: new Date().toISOString(),
  command: ['scripts/first-run-bench.sh', env.BENCH_FLAGS].filter(Boolean).join(' '),
  machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10, kernel: os.release(), go: env.BENCH_GO },
  packagesRemoved: (env.BENCH_REMOVED ?? '').split(' ').filter(Boolean),
  cloneToPageSeconds: Math.round(cloneToPageSeconds * 10) / 10,
  upExitSeconds: Math.round((Number(env.BENCH_ENDED) - Number(env.BENCH_STARTED)) * 10) / 10,
  targetSeconds,
  // Judged on the measured value, not the rounded one.
  withinTarget: cloneToPageSeconds <= targetSeconds,
  steps,
};
fs.writeFileSync(`${outDir}/first-run.json`, JSON.stringify(result, null, 2) + '\n');
const minutes = (s) => `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
const md = [
  '# First run: clone to page URL with empty caches',
  '',
  `Measured by \`${result.command}\` (\`npm run bench:first-run\`): a clone of the commit below,`,
  '`./kstack up --no-watch` with KSTACK_CACHE_DIR, GOCACHE, GOMODCACHE, the npm cache and KSTACK_STATE_DIR',
  'in empty folders, after `apt-get clean`. Written by the script; do not edit by hand.',
  '',
  '| | |',
  '|---|---|',
  `| commit | ${result.commit.slice(0, 12)} |`,
  `| date | ${result.date} |`,
  `| machine | ${result.machine.cpus} CPUs, ${result.machine.memoryGiB} GiB, Linux ${result.machine.kernel}, ${result.machine.go} |`,
  `| packages removed first | ${result.packagesRemoved.join(', ') || 'none'} |`,
  `| clone → page URL | **${minutes(cloneToPageSeconds)}** (${cloneToPageSeconds.toFixed(1)} s) |`,
  `| target | ≤ 15 min: ${result.withinTarget ? 'met' : 'NOT met'} |`,
  '',
  'Steps as `kstack up` printed them:',
  '',
  '```',
  ...steps,
  '```',
  '',
].join('\n');
fs.writeFileSync(`${outDir}/first-run.md`, md);
console.log(`clone → page URL: ${minutes(cloneToPageSeconds)} (${cloneToPageSeconds.toFixed(1)} s; target ≤ ${targetSeconds} s: ${result.withinTarget ? 'OK' : 'over'})`);
EOF
echo "first-run-bench: wrote docs/benchmarks/first-run.json and first-run.md" >&2
