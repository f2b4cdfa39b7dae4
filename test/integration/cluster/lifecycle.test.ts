// `kstack cluster up/down/status` as a user runs them: each test gets its own state folder, and every
// failure must end with a one-line error that says what to do, leaving nothing started behind.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunResult } from '../../../src/util/exec.js';
import { isPortFree } from '../../../src/util/net.js';
import { processesMentioning } from '../../../src/util/process.js';
import { repoRoot } from '../../../src/util/paths.js';
import { parseState } from '../../../src/cluster/state.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function stateHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-lifecycle-'));
  after(async () => {
    // Belt and braces: never leave a control plane running if a test failed half-way.
    await kstack(dir, ['cluster', 'down', '--name', 'lc']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function kstack(home: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, [cli, ...args], {
    env: { ...process.env, KSTACK_STATE_DIR: home, ...extraEnv },
    allowFailure: true,
  });
}

/** The error line kstack printed (it must be exactly one line starting with 'kstack: '). */
function oneLineError(res: RunResult): string {
  assert.notEqual(res.code, 0, `expected failure, got success:\n${res.stdout}`);
  const lines = res.stderr.split('\n').filter((l) => l.startsWith('kstack: '));
  assert.equal(lines.length, 1, `expected one error line, got:\n${res.stderr}`);
  return lines[0] ?? '';
}

function assertNothingLeft(home: string): void {
  assert.deepEqual(processesMentioning(home), [], 'no process of the cluster may remain');
  const left = existsSync(home) ? readdirSync(home) : [];
  assert.deepEqual(left, [], `no files may remain in the state folder, found: ${left.join(', ')}`);
}

describe('kstack cluster up / status / down', () => {
  it('comes up, is idempotent, reports status, and down leaves no process, port, lock or file', async () => {
    const home = stateHome();
    const kubeconfigCopy = join(home, '..', `kubeconfig-${Math.random().toString(36).slice(2)}`);
    const up = await kstack(home, ['cluster', 'up', '--control-plane', '--name', 'lc', '--kubeconfig', kubeconfigCopy]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Control plane 'lc' is up in .*: https:\/\/127\.0\.0\.1:\d+/);
    assert.ok(existsSync(kubeconfigCopy), '--kubeconfig copy written');

    const state = parseState(readFileSync(join(home, 'lc', 'state.json'), 'utf8'));
    const pids = Object.values(state.components).map((c) => c.pid);
    assert.equal(pids.length, 4);

    const again = await kstack(home, ['cluster', 'up', '--control-plane', '--name', 'lc']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /was already up/);
    const stateAgain = parseState(readFileSync(join(home, 'lc', 'state.json'), 'utf8'));
    assert.deepEqual(
      Object.values(stateAgain.components).map((c) => c.pid),
      pids,
      'a second up restarts nothing',
    );

    const status = await kstack(home, ['cluster', 'status', '--name', 'lc', '-o', 'json']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const parsed = JSON.parse(status.stdout) as { components: { name: string; healthy: boolean }[] };
    assert.deepEqual(
      parsed.components.map((c) => [c.name, c.healthy]),
      [
        ['etcd', true],
        ['kube-apiserver', true],
        ['kube-controller-manager', true],
        ['kube-scheduler', true],
      ],
    );

    const down = await kstack(home, ['cluster', 'down', '--name', 'lc']);
    assert.equal(down.code, 0, down.stderr);
    assertNothingLeft(home);
    assert.ok(!existsSync(kubeconfigCopy), 'the --kubeconfig copy is removed by down');
    for (const [key, port] of Object.entries(state.ports) as [string, number][])
      assert.ok(await isPortFree(port), `${key} port ${port} is free again`);

    const statusAfter = await kstack(home, ['cluster', 'status', '--name', 'lc']);
    assert.equal(statusAfter.code, 3);
    assert.match(statusAfter.stdout, /No cluster 'lc'/);
  });

  it('refuses a port in use with a one-line error and starts nothing', async () => {
    const home = stateHome();
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const res = await kstack(home, ['cluster', 'up', '--control-plane', '--name', 'lc', '--api-port', String(port)]);
      const line = oneLineError(res);
      assert.match(
        line,
        new RegExp(`--api-port ${port}: 127\\.0\\.0\\.1:${port} is already in use; choose another port`),
      );
      assertNothingLeft(home);
    } finally {
      server.close();
    }
  });

  it('refuses to build without a Go toolchain, saying how to get one, and starts nothing', async () => {
    const home = stateHome();
    const emptyCache = mkdtempSync(join(tmpdir(), 'kstack-nocache-'));
    after(() => {
      rmSync(emptyCache, { recursive: true, force: true });
    });
    const res = await kstack(home, ['cluster', 'up', '--control-plane', '--name', 'lc'], {
      KSTACK_CACHE_DIR: emptyCache,
      KSTACK_GO: '/nonexistent/go',
    });
    const line = oneLineError(res);
    assert.match(line, /no Go toolchain found .*install Go 1\.\d+(\.\d+)? or newer \(or set KSTACK_GO=/);
    assertNothingLeft(home);
  });

  it('refuses a corrupt state folder, names the problem, and down still cleans it', async () => {
    const home = stateHome();
    mkdirSync(join(home, 'lc'), { recursive: true });
    writeFileSync(join(home, 'lc', 'state.json'), '{"version": 1, "name": "lc", "ports": ');
    const res = await kstack(home, ['cluster', 'up', '--control-plane', '--name', 'lc']);
    const line = oneLineError(res);
    assert.match(
      line,
      /state of cluster 'lc' .* is corrupt \(state\.json is not valid JSON.*run 'kstack cluster down --name lc'/,
    );
    assert.deepEqual(processesMentioning(home), []);

    writeFileSync(
      join(home, 'lc', 'state.json'),
      JSON.stringify({ version: 1, name: 'lc', createdAt: 'x', ports: { etcdClient: 'nope' } }),
    );
    const res2 = await kstack(home, ['cluster', 'up', '--control-plane', '--name', 'lc']);
    assert.match(oneLineError(res2), /ports\.etcdClient must be a port number/);

    const down = await kstack(home, ['cluster', 'down', '--name', 'lc']);
    assert.equal(down.code, 0, down.stderr);
    assertNothingLeft(home);
  });

  it('refuses a second concurrent up of the same cluster, and the first one still succeeds', async () => {
    const home = stateHome();
    const first = spawn(process.execPath, [cli, 'cluster', 'up', '--control-plane', '--name', 'lc'], {
      env: { ...process.env, KSTACK_STATE_DIR: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let firstErr = '';
    first.stderr.setEncoding('utf8').on('data', (c: string) => {
      firstErr += c;
    });
    const firstDone = new Promise<number>((r) =>
      first.on('close', (code) => {
        r(code ?? 1);
      }),
    );
    // Wait until the first command holds the lock, then race it.
    const lock = join(home, '.lc.lock');
    for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(existsSync(lock), 'the first up takes the lock');
    const second = await kstack(home, ['cluster', 'up', '--control-plane', '--name', 'lc']);
    assert.match(
      oneLineError(second),
      new RegExp(`another kstack command \\(pid ${first.pid}\\) is already working on cluster 'lc'; wait for it`),
    );
    assert.equal(await firstDone, 0, firstErr);
    assert.ok(!existsSync(lock), 'the lock is released when up ends');
    const down = await kstack(home, ['cluster', 'down', '--name', 'lc']);
    assert.equal(down.code, 0);
    assertNothingLeft(home);
  });

  it('rejects bad flags naming the flag', async () => {
    const home = stateHome();
    assert.match(
      oneLineError(await kstack(home, ['cluster', 'up', '--control-plane', '--api-port', 'http'])),
      /--api-port 'http' is not a port: use a whole number from 1 to 65535/,
    );
    assert.match(
      oneLineError(await kstack(home, ['cluster', 'up', '--control-plane', '--name', 'Bad_Name'])),
      /--name 'Bad_Name' is not a valid cluster name/,
    );
    assert.match(
      oneLineError(await kstack(home, ['cluster', 'up', '--control-plane', '--frobnicate'])),
      /Unknown option '--frobnicate'/,
    );
    assertNothingLeft(home);
  });
});
