// Holds the declaration in src/setup/needs.ts against the code: for each command, walk the imports of its
// entry modules, collect the programs that code runs (and the Go components it builds), follow what
// those programs run in turn, and require the command's declared needs to provide every one of them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { imageRecipes } from '../../../src/images/recipes.js';
import {
  controlPlaneComponents,
  goComponents,
  nodeComponents,
  nodeHostComponents,
  type GoComponentName,
} from '../../../src/setup/go-components.js';
import {
  commandNames,
  commandNeeds,
  programProviders,
  programUses,
  resolveNeeds,
  type CommandName,
  type CommandNeeds,
  type Provider,
} from '../../../src/setup/needs.js';
import { loadVersions } from '../../../src/setup/versions.js';
import { repoRoot } from '../../../src/util/paths.js';

/** Comment lines go: they name programs without running them. */
const code = (file: string): string =>
  readFileSync(join(repoRoot, file), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\/\*|\*)/.test(l))
    .join('\n');

// needs.ts installs what the declarations say; it is the declaration, not a use of it.
const NOT_WALKED = new Set(['src/setup/needs.ts']);

/** Every module (repo-relative .ts path) reachable from `entries` through relative value imports. */
export function reachable(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const todo = [...entries];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file) || NOT_WALKED.has(file)) continue;
    assert.ok(existsSync(join(repoRoot, file)), `needs.ts names entry module ${file}, which does not exist`);
    seen.add(file);
    for (const m of code(file).matchAll(
      /^\s*(import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gm,
    )) {
      if (m[2]) continue; // `import type`: erased, runs nothing
      const spec = m[3] ?? m[4] ?? '';
      const target = relative(repoRoot, resolve(dirname(join(repoRoot, file)), spec.replace(/\.js$/, '.ts')));
      if (existsSync(join(repoRoot, target))) todo.push(target);
    }
  }
  return [...seen].sort();
}

/** Program names a module runs on this host, as written in its code (paths reduced to their last part). */
export function programsIn(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:run|spawn|spawnSync|execFile|execFileSync|startChild)\(\s*'([^']+)'/g, // run('openssl', …)
    /\b(?:run|spawn|startChild)\(\s*[\w$.]+\s*\?\?\s*'([^']+)'/g, // run(opts.zstd ?? 'zstd', …)
    // const zstdBin = opts.zstd ?? 'zstd'; (mariadbBackup = 'mariadb-backup')
    /\b(?:\w*Bin|mariadb\w*)\s*=\s*(?:[\w$.]+\s*\?\?\s*)?'([^']+)'/g,
    /\binNetns\(\s*[^,]+,\s*'([^']+)'/g, // inNetns(netns, 'iptables', …)
    /\bbinary:\s*'([^']+)'/g, // startDaemon({ binary: '/usr/bin/nsenter', … })
    /\bconst\s+[A-Z][A-Z_]*\s*=\s*'(\/[^']*\/s?bin\/[^']+)'/g, // const CONTAINERD = '/usr/bin/containerd'
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(basename(m[1] ?? ''));
  // Shell lines kstack runs itself: the first word of each part of a pipeline.
  for (const m of source.matchAll(
    /\brun\(\s*'(?:sh|bash|\/bin\/sh)',\s*\[[^\]]*?'-c',\s*([`'])((?:(?!\1)[^\\]|\\.)*)\1/g,
  )) {
    for (const part of (m[2] ?? '').split(/\||&&|;/)) {
      const word = /^\s*(?:exec\s+)?([a-z][\w.-]*)/.exec(part)?.[1];
      if (word) found.push(word);
    }
  }
  return [...new Set(found)].filter(Boolean);
}

const goGroups: Record<string, readonly GoComponentName[]> = {
  controlPlaneComponents,
  nodeComponents,
  nodeHostComponents,
};
const recipeGo = [
  ...new Set(Object.values(imageRecipes).flatMap((r) => Object.keys(r.goBinaries))),
] as GoComponentName[];
// Calls whose component list is computed, with what it is computed from.
const computedGo: Record<string, readonly GoComponentName[]> = { 'src/images/build.ts': recipeGo };

/** Go components a module builds: the arguments of its ensureGoBinaries / ensureControlPlaneBinaries calls. */
function goBuiltIn(file: string, source: string): GoComponentName[] {
  const found: GoComponentName[] = [];
  if (!/function ensureControlPlaneBinaries/.test(source)) {
    for (const m of source.matchAll(/\bensureControlPlaneBinaries\(([^;]*?)\);/g)) {
      found.push(...controlPlaneComponents);
      // Built alongside in the same go build (e.g. `nodeSettings ? nodeHostComponents : []`).
      for (const [group, members] of Object.entries(goGroups))
        if (new RegExp(`\\b${group}\\b`).test(m[1] ?? '')) found.push(...members);
    }
  }
  for (const m of source.matchAll(/\bensureGoBinaries\(\s*([^)]*?)\s*,\s*[\w$.]+\s*\)/g)) {
    const arg = m[1] ?? '';
    if (goGroups[arg]) {
      found.push(...(goGroups[arg] ?? []));
    } else if (arg.startsWith('[')) {
      for (const item of arg
        .slice(1, arg.lastIndexOf(']'))
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const literal = /^'([^']+)'$/.exec(item)?.[1];
        const group = goGroups[/^\.\.\.(\w+)$/.exec(item)?.[1] ?? ''];
        // ensureControlPlaneBinaries' `alongside` parameter: its components are counted at each call site.
        if (file === 'src/setup/setup.ts' && item === '...alongside') continue;
        assert.ok(
          literal ?? group,
          `${file}: cannot read the Go component '${item}' in ensureGoBinaries(${arg}); ` +
            `list components literally or spread one of ${Object.keys(goGroups).join(', ')}`,
        );
        if (literal) found.push(literal as GoComponentName);
        if (group) found.push(...group);
      }
    } else {
      const computed = computedGo[file];
      assert.ok(
        computed,
        `${file}: ensureGoBinaries(${arg}, …) is computed; add what it is computed from to computedGo in this test`,
      );
      found.push(...computed);
    }
  }
  return found;
}

interface Used {
  programs: Map<string, string>; // program → the module (or program) that runs it
  clients: boolean;
  nodeRuntime: boolean;
  debianGroups: Set<string>;
}

/** What the code of `entries` really uses on this host. */
function usedBy(entries: readonly string[]): Used {
  const used: Used = { programs: new Map(), clients: false, nodeRuntime: false, debianGroups: new Set() };
  for (const file of reachable(entries)) {
    const source = code(file);
    for (const p of programsIn(source)) if (!used.programs.has(p)) used.programs.set(p, file);
    for (const c of goBuiltIn(file, source)) if (!used.programs.has(c)) used.programs.set(c, file);
    if (/\bensureKubectlAndHelm\(/.test(source) && !/function ensureKubectlAndHelm/.test(source)) used.clients = true;
    if (/\bensureNodeRuntime\(/.test(source) && !/function ensureNodeRuntime/.test(source)) used.nodeRuntime = true;
    if (file === 'src/images/build.ts' && Object.values(imageRecipes).some((r) => 'includeNode' in r && r.includeNode))
      used.nodeRuntime = true;
    for (const m of source.matchAll(/\bloadVersions\(\)\.debianPackages\.(\w+)/g)) used.debianGroups.add(m[1] ?? '');
  }
  // What those programs run in turn.
  const todo = [...used.programs.keys()];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    for (const q of programUses[p] ?? []) {
      if (!used.programs.has(q)) {
        used.programs.set(q, `${p} (programUses)`);
        todo.push(q);
      }
    }
  }
  return used;
}

/** Why `program` (run by `where`) is not covered by `needs`, or undefined when it is. */
function uncovered(
  command: CommandName,
  program: string,
  where: string,
  provider: Provider | undefined,
): string | undefined {
  const needs: CommandNeeds = commandNeeds[command];
  const resolved = resolveNeeds(command, loadVersions().debianPackages);
  if (!provider) {
    return (
      `'${program}' (run by ${where}) is not in programProviders in src/setup/needs.ts: ` +
      `add what provides it ({ debian: 'package' }, { go: … }, or { base: 'why it is always there' })`
    );
  }
  if ('debian' in provider && !resolved.debianPackages.includes(provider.debian)) {
    const groups = Object.entries(loadVersions().debianPackages)
      .filter(([, ps]) => ps.includes(provider.debian))
      .map(([g]) => g);
    return (
      `'${command}' runs '${program}' (${where}) from Debian package ${provider.debian}, ` +
      `which none of its groups [${needs.debian.join(', ')}] holds: ${
        groups.length
          ? `add group ${groups.join(' or ')} to its debian needs`
          : `add ${provider.debian} to one of its groups in tools/versions.json`
      }`
    );
  }
  if ('go' in provider && !(needs.go as readonly string[]).includes(provider.go)) {
    return `'${command}' runs Go component '${provider.go}' (${where}) but does not declare it: add it to its go needs`;
  }
  if ('client' in provider && !needs.kubectlHelm)
    return `'${command}' runs ${provider.client} (${where}): set kubectlHelm: true`;
  return undefined;
}

describe('command needs (src/setup/needs.ts)', () => {
  it('finds the programs a module runs, in every form the code uses', () => {
    assert.deepEqual(
      programsIn(`await run('openssl', ['x']); startChild(opts.mariadbDump ?? 'mariadb-dump', []);
      const zstdBin = opts.zstd ?? 'zstd'; inNetns(node.netns, 'sysctl', []); startDaemon({ binary: '/usr/bin/nsenter',\
 args: [] });
      const CONTAINERD = '/usr/bin/containerd'; await run('sh', ['-c', 'tar -C "$1" -cf - . |\
 ctr --address "$2" images import -']);`).sort(),
      ['containerd', 'ctr', 'mariadb-dump', 'nsenter', 'openssl', 'sh', 'sysctl', 'tar', 'zstd'].sort(),
    );
  });

  it('walks value imports and skips type-only ones', () => {
    const files = reachable(['src/cluster/status.ts']);
    assert.ok(files.includes('src/cluster/pki.ts'));
    assert.ok(
      !files.includes('src/cluster/control-plane.ts'),
      'status.ts does not pull in the code that starts a cluster',
    );
  });

  it('resolves a command to flat, repeat-free package lists', () => {
    const groups = {
      controlPlane: ['openssl', 'unzip'],
      web: ['nginx', 'openssl'],
      nodes: ['containerd'],
      images: ['mmdebstrap'],
    };
    assert.deepEqual(resolveNeeds('prove', groups).debianPackages, ['openssl', 'unzip', 'nginx']);
    assert.deepEqual(resolveNeeds('images build', groups), {
      debianPackages: ['openssl', 'unzip', 'mmdebstrap'],
      go: ['pause', 'coredns'],
      kubectlHelm: false,
      nodeRuntime: true,
    });
    assert.throws(() => resolveNeeds('bench:db', groups), /debianPackages\.db.*bench:db/);
  });

  it('names only groups and components that exist', () => {
    const groups = Object.keys(loadVersions().debianPackages);
    for (const name of commandNames) {
      const needs: CommandNeeds = commandNeeds[name];
      for (const g of needs.debian) assert.ok(groups.includes(g), `${name}: no group ${g} in tools/versions.json`);
      for (const c of needs.go) assert.ok(c in goComponents, `${name}: no Go component ${c}`);
    }
  });

  it("lets setup install everything: every group, every Go component, and every other command's needs", () => {
    const setup = resolveNeeds('setup', loadVersions().debianPackages);
    assert.deepEqual(new Set(setup.debianPackages), new Set(Object.values(loadVersions().debianPackages).flat()));
    assert.deepEqual(new Set(setup.go), new Set(Object.keys(goComponents)));
    assert.ok(setup.kubectlHelm && setup.nodeRuntime);
  });

  it('declares a bench for every bench:* npm script', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
    );
    for (const s of scripts.filter((n) => n.startsWith('bench:')))
      assert.ok(s in commandNeeds, `package.json has ${s} but src/setup/needs.ts declares no needs for it`);
  });

  for (const name of commandNames) {
    const needs: CommandNeeds = commandNeeds[name];
    if (needs.installsNothing !== undefined || needs.entries.length === 0) continue;
    it(`'${name}' declares everything its code runs`, () => {
      const used = usedBy(needs.entries);
      const problems: string[] = [];
      for (const [program, where] of used.programs) {
        const why = uncovered(name, program, where, programProviders[program]);
        if (why) problems.push(why);
      }
      if (used.clients && !needs.kubectlHelm)
        problems.push(`'${name}' fetches kubectl and helm (ensureKubectlAndHelm): set kubectlHelm: true`);
      if (used.nodeRuntime && !needs.nodeRuntime)
        problems.push(`'${name}' puts the Node.js runtime into an image: set nodeRuntime: true`);
      for (const g of used.debianGroups) {
        if (!(needs.debian as readonly string[]).includes(g))
          problems.push(`'${name}' installs debianPackages.${g} itself: add group ${g} to its debian needs`);
      }
      assert.deepEqual(problems, []);
    });
  }

  it('keeps the commands that install nothing to the few that only stop or read a cluster', () => {
    const exempt = commandNames.filter((n) => (commandNeeds[n] as CommandNeeds).installsNothing !== undefined);
    assert.deepEqual(exempt.sort(), [
      'cluster down',
      'cluster status',
      'cluster stop',
      'down',
      'region down',
      'status',
    ]);
  });
});
