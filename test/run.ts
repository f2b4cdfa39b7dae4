// Runs the test tiers in one `node --test` run (one summary for CI). Integration tests share one real
// control plane, started here before the run and removed after it, whatever the outcome.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneDown, controlPlaneUp } from '../src/cluster/control-plane.js';
import { createProgress } from '../src/util/progress.js';
import { repoRoot } from '../src/util/paths.js';
import { TEST_ENV } from './helpers/env.js';

const tiers = ['unit', 'integration', 'e2e'] as const;
type Tier = (typeof tiers)[number];

function testFiles(tier: Tier): string[] {
  const dir = join(repoRoot, 'dist', 'test', tier);
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => {
      const p = join(d, f);
      return statSync(p).isDirectory() ? walk(p) : f.endsWith('.test.js') ? [p] : [];
    });
  try {
    return walk(dir).sort();
  } catch {
    return [];
  }
}

async function main(): Promise<number> {
  const arg = process.argv[2] ?? 'all';
  const selected: Tier[] = arg === 'all' ? [...tiers] : (tiers as readonly string[]).includes(arg) ? [arg as Tier] : [];
  if (selected.length === 0) {
    process.stderr.write(`unknown test tier '${arg}': use ${tiers.join(', ')} or all\n`);
    return 2;
  }
  // Further arguments narrow the run to files whose path contains one of them (e.g. `integration chart-db/`).
  const only = process.argv.slice(3);
  const files = selected.flatMap(testFiles).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
  if (files.length === 0) {
    process.stderr.write(`no test file of ${selected.join(', ')} matches ${only.join(', ')}\n`);
    return 2;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  const baseDir = mkdtempSync(join(tmpdir(), 'kstack-test-'));
  const progress = createProgress();
  let clusterStarted = false;
  try {
    if (selected.includes('integration')) {
      const cp = await controlPlaneUp({ name: 'shared', baseDir, progress });
      clusterStarted = true;
      env[TEST_ENV.kubeconfig] = cp.kubeconfig;
    }
    return await new Promise<number>((resolvePromise) => {
      const child = spawn(process.execPath, ['--enable-source-maps', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit', env });
      const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
      process.on('SIGINT', forward).on('SIGTERM', forward);
      child.on('close', (code) => { resolvePromise(code ?? 1); });
    });
  } finally {
    if (clusterStarted) await controlPlaneDown({ name: 'shared', baseDir, progress });
    rmSync(baseDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
