import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    throw new UserError(`no Go toolchain found ('${binary}' did not run); kstack builds the Kubernetes components from source: ${hint}`);
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

/** Every .go file under a tools/ module, as "path\0content" in path order ('' when it has none). */
export function moduleSources(dir: string): string {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.go')).sort();
  return files.map((f) => `${f}\0${readFileSync(join(dir, f), 'utf8')}`).join('\0');
}

/** Where the binaries built from a module's current pins (and own source) live. */
export function goBinDir(module: string): string {
  return join(cacheDir(), 'go', `${module}-${buildKey(readGoMod(module), readGoSum(module), process.arch, moduleSources(goModuleDir(module)))}`);
}

/**
 * Builds (or finds in the cache) the named Go components and returns their paths. A second call with
 * the same pins builds nothing and does not need Go at all. Each binary is built into a temporary name
 * and renamed into place, so an interrupted build never leaves a broken binary in the cache.
 */
export async function ensureGoBinaries<N extends GoComponentName>(names: readonly N[], progress: Progress): Promise<Record<N, string>> {
  const paths = Object.fromEntries(names.map((n) => [n, join(goBinDir(goComponents[n].module), n)])) as Record<N, string>;
  const missing = names.filter((n) => !existsSync(paths[n]));
  if (missing.length === 0) return paths;

  const needed = missing.map((n) => goDirective(readGoMod(goComponents[n].module)) ?? '0').sort(compareVersions).at(-1) ?? '0';
  const go = await findGo(needed);
  for (const name of missing) {
    mkdirSync(dirname(paths[name]), { recursive: true });
    await buildOne(name, paths[name], go, progress);
  }
  return paths;
}

// Static binaries, no toolchain downloads, no go.mod rewrites: the build is exactly what tools/go.mod says.
function buildEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' };
}

async function buildOne(name: GoComponentName, target: string, go: GoToolchain, progress: Progress): Promise<void> {
  const component: GoComponent = goComponents[name];
  const cwd = goModuleDir(component.module);
  const env = buildEnv();
  await progress.step(`build ${name} from source (${component.pkg})`, async (step) => {
    // Count the packages the build has to go through so progress can say how far along it is.
    step.detail('listing packages');
    const list = await run(go.binary, ['list', '-deps', component.pkg], { cwd, env });
    const total = list.stdout.split('\n').filter(Boolean).length;
    let done = 0;
    const ldflags = ['-s', '-w', ...(component.kubernetesVersionStamp ? versionLdflags(kubernetesVersion()) : [])].join(' ');
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      await run(go.binary, ['build', '-v', '-trimpath', `-ldflags=${ldflags}`, '-o', tmp, component.pkg], {
        cwd,
        env,
        onLine: (line, stream) => {
          if (stream === 'stderr' && line && !line.includes(' ')) {
            done++;
            step.detail(`${done}/${total} packages compiled`);
          }
        },
      });
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
  });
}
