import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../util/exec.js';
import { UserError } from '../util/errors.js';
import { cacheDir } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { goComponents, versionLdflags, type GoComponent, type GoComponentName } from './go-components.js';
import { goDirective, goModuleDir, kubernetesVersion, readGoMod, readGoSum } from './versions.js';

export interface GoToolchain {
  binary: string;
  /** e.g. 'go1.26.8' */
  version: string;
}

/** Compares dotted versions numerically: compareVersions('1.26.8', '1.25.0') > 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Finds the Go toolchain (KSTACK_GO or `go` on PATH) and checks it is new enough for every module under tools/. */
export async function findGo(needed: string, env: NodeJS.ProcessEnv = process.env): Promise<GoToolchain> {
  const binary = env.KSTACK_GO ?? 'go';
  const hint = `install Go ${needed} or newer (or set KSTACK_GO=/path/to/go) and run again`;
  let out: string;
  try {
    out = (await run(binary, ['version'], { env: { ...env, GOTOOLCHAIN: 'local' } })).stdout;
  } catch {
    throw new UserError(
      `no Go toolchain found ('${binary}' did not run); kstack builds the Kubernetes components from source: ${hint}`,
    );
  }
  const version = /go version (go[\d.]+)/.exec(out)?.[1];
  if (!version) throw new UserError(`'${binary} version' printed something unexpected (${out.trim()}); ${hint}`);
  if (compareVersions(version.slice(2), needed) < 0) {
    throw new UserError(`Go ${version.slice(2)} is too old: the modules under tools/ need Go ${needed}; ${hint}`);
  }
  return { binary, version };
}

/**
 * The cache folder for one set of pins: same go.mod, go.sum and architecture → same folder. The Go
 * version is left out on purpose, so cached binaries keep working after Go is upgraded or removed.
 */
export function buildKey(goMod: string, goSum: string, arch: string = process.arch, localSources = ''): string {
  const hash = createHash('sha256').update(goMod).update('\0').update(goSum).update('\0').update(arch);
  // Modules with Go source of their own (tools/pause, tools/multinet) are rebuilt when that source changes.
  if (localSources !== '') hash.update('\0').update(localSources);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Every .go file under a tools/ module that goes into its binaries, as "path\0content" in path order ('' when
 * it has none). Test files are left out: editing a test must not rebuild the binaries.
 */
export function moduleSources(dir: string): string {
  const files = (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))
    .sort();
  return files.map((f) => `${f}\0${readFileSync(join(dir, f), 'utf8')}`).join('\0');
}

/** Where the binaries built from a module's current pins (and own source) live. */
export function goBinDir(module: string): string {
  return join(
    cacheDir(),
    'go',
    `${module}-${buildKey(readGoMod(module), readGoSum(module), process.arch, moduleSources(goModuleDir(module)))}`,
  );
}

function goBinaryPaths<N extends GoComponentName>(names: readonly N[]): Record<N, string> {
  return Object.fromEntries(names.map((n) => [n, join(goBinDir(goComponents[n].module), n)])) as Record<N, string>;
}

/** The components that are not in the cache yet (what ensureGoBinaries would build). */
export function missingGoBinaries<N extends GoComponentName>(names: readonly N[]): N[] {
  const paths = goBinaryPaths(names);
  return [...new Set(names)].filter((n) => !existsSync(paths[n]));
}

/** The Go toolchain, checked against every module the components come from (fails in seconds without one). */
export async function requireGoFor(names: readonly GoComponentName[]): Promise<GoToolchain> {
  const needed =
    names
      .map((n) => goDirective(readGoMod(goComponents[n].module)) ?? '0')
      .sort(compareVersions)
      .at(-1) ?? '0';
  return findGo(needed);
}

/**
 * The file name `go build -o dir/` gives a main package: the last element of its import path, or the
 * one before it when that is a major-version suffix (go.etcd.io/etcd/server/v3 → server), as cmd/go's
 * DefaultExecName does in module mode.
 */
export function goExecName(pkg: string): string {
  const parts = pkg.split('/');
  const last = parts.at(-1) ?? pkg;
  const isMajorVersion = /^v([2-9]|[1-9]\d+)$/.test(last);
  return isMajorVersion && parts.length > 1 ? (parts.at(-2) ?? last) : last;
}

/** One `go build` run: several main packages of one module, written into one folder. */
export interface GoBuildPlan<N extends string = GoComponentName> {
  module: string;
  /** The components in this run, keyed by the file name go writes for each. */
  outputs: Map<string, N>;
}

/**
 * Groups components into as few `go build` runs as possible: one per module (packages of one module
 * share most of their dependencies, and one run links them in parallel), split only where two packages
 * would be written under the same file name. Runs keep the order in which their modules first appear.
 */
export function planGoBuilds<N extends string>(
  names: readonly N[],
  components: Readonly<Record<N, GoComponent>>,
): GoBuildPlan<N>[] {
  const plans: GoBuildPlan<N>[] = [];
  for (const name of new Set(names)) {
    const { module, pkg } = components[name];
    const exec = goExecName(pkg);
    const plan = plans.find((p) => p.module === module && !p.outputs.has(exec));
    if (plan) plan.outputs.set(exec, name);
    else plans.push({ module, outputs: new Map([[exec, name]]) });
  }
  return plans;
}

/**
 * The arguments of one combined build. `-ldflags=pattern=flags` gives the Kubernetes components their
 * version stamp and leaves the others (etcd, built in the same run) exactly as a build of their own would.
 */
export function goBuildArgs<N extends string>(
  plan: GoBuildPlan<N>,
  components: Readonly<Record<N, GoComponent>>,
  kubeVersion: string,
  outDir: string,
): string[] {
  const base = ['-s', '-w'];
  const members = [...plan.outputs.values()].map((n) => components[n]);
  const stamped = members
    .filter((c) => c.kubernetesVersionStamp)
    .map((c) => `-ldflags=${c.pkg}=${[...base, ...versionLdflags(kubeVersion)].join(' ')}`);
  return [
    'build',
    '-v',
    '-trimpath',
    `-ldflags=${base.join(' ')}`,
    ...stamped,
    '-o',
    `${outDir}/`,
    ...members.map((c) => c.pkg),
  ];
}

/**
 * Builds (or finds in the cache) the named Go components and returns their paths. A second call with
 * the same pins builds nothing and does not need Go at all. Components of one module are built by one
 * `go build` into a temporary folder and renamed into place, so an interrupted build never leaves a
 * broken binary in the cache. Ask for everything a command needs in one call: that is what lets the
 * builds be combined.
 */
export async function ensureGoBinaries<N extends GoComponentName>(
  names: readonly N[],
  progress: Progress,
): Promise<Record<N, string>> {
  const paths = goBinaryPaths(names);
  const missing = missingGoBinaries(names);
  if (missing.length === 0) return paths;

  const go = await requireGoFor(missing);
  const plans = planGoBuilds(missing, goComponents);
  // Listing a module's packages downloads its dependencies (network bound), so the next modules are
  // listed while the current one compiles (CPU bound).
  const lists = inSequence(plans, (plan) => listDeps(plan, go));
  try {
    for (const { item: plan, result: packageCount } of lists.queued)
      await buildModule(plan, packageCount, go, progress);
  } finally {
    lists.stop();
  }
  return paths;
}

/**
 * Starts `task` for each item, one after another, in the background; each result can be awaited when it
 * is needed. `stop` starts no further task (a running one finishes). Rejections are observed here, so a
 * result nobody awaits any more (after an earlier step failed) is not reported as unhandled.
 */
export function inSequence<I, T>(
  items: readonly I[],
  task: (item: I) => Promise<T>,
): { queued: { item: I; result: Promise<T> }[]; stop: () => void } {
  let stopped = false;
  let previous: Promise<unknown> = Promise.resolve();
  const queued = items.map((item) => {
    const result = previous.then(() => {
      if (stopped) throw new Error('stopped');
      return task(item);
    });
    previous = result.catch(() => undefined);
    return { item, result };
  });
  return {
    queued,
    stop: () => {
      stopped = true;
    },
  };
}

// Static binaries, no toolchain downloads, no go.mod rewrites: the
// build is exactly what the component's tools/<name>/go.mod says.
// The test runner's go vet and go test use it too, so they share the build's module and build caches.
export function goBuildEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' };
}

/** How many packages the build goes through (the union of every member's dependencies). */
async function listDeps(plan: GoBuildPlan, go: GoToolchain): Promise<number> {
  const pkgs = [...plan.outputs.values()].map((n) => goComponents[n].pkg);
  const list = await run(go.binary, ['list', '-deps', ...pkgs], { cwd: goModuleDir(plan.module), env: goBuildEnv() });
  return list.stdout.split('\n').filter(Boolean).length;
}

async function buildModule(
  plan: GoBuildPlan,
  packageCount: Promise<number>,
  go: GoToolchain,
  progress: Progress,
): Promise<void> {
  const names = [...plan.outputs.values()];
  const binDir = goBinDir(plan.module);
  await progress.step(`build ${names.join(', ')} from source (tools/${plan.module})`, async (step) => {
    // The package count says how far along the build is; listing also fetches the module's dependencies.
    step.detail('downloading modules and listing packages');
    const total = await packageCount;
    let done = 0;
    mkdirSync(binDir, { recursive: true });
    const tmp = mkdtempSync(join(binDir, '.tmp-build-'));
    try {
      await run(go.binary, goBuildArgs(plan, goComponents, kubernetesVersion(), tmp), {
        cwd: goModuleDir(plan.module),
        env: goBuildEnv(),
        onLine: (line, stream) => {
          if (stream === 'stderr' && line && !line.includes(' ')) {
            done++;
            step.detail(`${done}/${total} packages compiled`);
          }
        },
      });
      for (const [exec, name] of plan.outputs) renameSync(join(tmp, exec), join(binDir, name));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}
