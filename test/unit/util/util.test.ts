import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { acquireLock } from '../../../src/util/lock.js';
import { isPortFree, pickFreePorts } from '../../../src/util/net.js';
import { createProgress, formatDuration } from '../../../src/util/progress.js';
import { portFlag } from '../../../src/cli/args.js';

describe('lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-lock-'));
  const file = join(dir, 'x.lock');

  it('is exclusive while its holder lives, and gone once released', () => {
    const lock = acquireLock(file, () => 'busy');
    assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
    // A live holder that is not us (pid 1 always lives) blocks.
    writeFileSync(file, '1\n');
    assert.throws(() => acquireLock(file, (pid) => `busy by ${pid}`), /busy by 1/);
    writeFileSync(file, `${process.pid}\n`);
    lock.release();
    assert.throws(() => readFileSync(file), /ENOENT/);
  });

  it('takes over a lock whose holder died', () => {
    writeFileSync(file, '999999999\n');
    const lock = acquireLock(file, () => 'busy');
    assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
    lock.release();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('progress', () => {
  it('formats durations for people', () => {
    assert.equal(formatDuration(340), '340ms');
    assert.equal(formatDuration(8_600), '8.6s');
    assert.equal(formatDuration(125_000), '2m05s');
  });

  it('logs start, rate-limited details and the end of a step when not on a terminal', async () => {
    let out = '';
    let clock = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const progress = createProgress({ out: sink, isTTY: false, now: () => clock, logEveryMs: 1000 });
    await progress.step('build', async (step) => {
      step.detail('1/10');
      clock = 500;
      step.detail('2/10');
      clock = 1500;
      step.detail('9/10');
      clock = 2000;
      await Promise.resolve();
    });
    assert.equal(out, '▸ build\n  build: 1/10\n  build: 9/10\n✓ build (2.0s)\n');
  });

  it('marks a failed step and passes the error on', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const progress = createProgress({ out: sink, isTTY: false });
    await assert.rejects(
      progress.step('fail', () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.match(out, /✗ fail\n$/);
  });
});

describe('flags', () => {
  it('accepts ports and names the flag when one is not', () => {
    assert.equal(portFlag('api-port', '6443'), 6443);
    assert.equal(portFlag('api-port', undefined), undefined);
    for (const bad of ['0', '65536', '-1', '1.5', 'http', '']) {
      assert.throws(
        () => portFlag('api-port', bad),
        /--api-port '.*' is not a port: use a whole number from 1 to 65535/,
        bad,
      );
    }
  });
});

describe('free ports', () => {
  it('picks distinct, bindable ports below the ephemeral range, none of those to avoid', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const [first] = await pickFreePorts(1);
    assert.ok(first);
    const ports = await pickFreePorts(20, '127.0.0.1', new Set([first]));
    assert.equal(ports.length, 20);
    assert.equal(new Set(ports).size, 20);
    assert.ok(!ports.includes(first));
    for (const p of ports) {
      assert.ok(p >= 20000 && p < Math.max(21000, low), `${p} is below the ephemeral range (from ${low})`);
      assert.ok(await isPortFree(p), `${p} is free`);
    }
  });

  it('isPortFree is false while something listens there', async () => {
    const srv = createServer();
    await new Promise<void>((r) => {
      srv.listen(0, '127.0.0.1', r);
    });
    const addr = srv.address();
    assert.ok(addr && typeof addr === 'object');
    try {
      assert.equal(await isPortFree(addr.port), false);
    } finally {
      await new Promise<void>((r) => {
        srv.close(() => {
          r();
        });
      });
    }
  });
});
