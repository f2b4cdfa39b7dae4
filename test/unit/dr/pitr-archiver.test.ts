// The binlog archiver's environment and the backup metrics it exposes (pure parts of
// src/dr/binlog-main.ts and src/dr/binlog-metrics.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseArchiverEnv } from '../../../src/dr/binlog-main.js';
import { backupMetricsText, summariseBackups } from '../../../src/dr/binlog-metrics.js';
import type { Manifest, Verification } from '../../../src/dr/manifest.js';

const base = {
  KSTACK_BINLOG_STREAM: 'db-0',
  KSTACK_BINLOG_DIR: '/var/lib/mysql',
  KSTACK_DR_DB_PASSWORD_FILE: '/s/pw',
  KSTACK_DR_KEY_FILE: '/s/key',
};

describe('binlog archiver environment', () => {
  it("reads the chart's variables with defaults", () => {
    const cfg = parseArchiverEnv({
      ...base,
      KSTACK_BINLOG_SOCKET: '/run/mysqld/mysqld.sock',
      KSTACK_BINLOG_INTERVAL_SECONDS: '20',
    });
    assert.equal(cfg.socket, '/run/mysqld/mysqld.sock');
    assert.equal(cfg.intervalSeconds, 20);
    assert.equal(cfg.metricsPort, 9106);
    assert.equal(cfg.user, 'root');
  });
  it('names the variable that is missing or out of range', () => {
    assert.throws(() => parseArchiverEnv({ ...base, KSTACK_BINLOG_STREAM: '' }), /KSTACK_BINLOG_STREAM: must be set/);
    assert.throws(
      () => parseArchiverEnv({ ...base, KSTACK_BINLOG_INTERVAL_SECONDS: '0' }),
      /KSTACK_BINLOG_INTERVAL_SECONDS: must be a whole number from 1 to 3600, not '0'/,
    );
  });
});

describe('backup metrics from the manifests', () => {
  const manifest = (id: string, finishedAt: string, bytes: number): Manifest =>
    ({ id, finishedAt, durationMs: 4000, object: { bytes } }) as unknown as Manifest;
  const verification = (ok: boolean, verifiedAt: string): Verification =>
    ({ ok, verifiedAt }) as unknown as Verification;
  it('reports the newest backup and the newest successful verification', () => {
    const s = summariseBackups(
      [manifest('a', '2026-11-25T03:00:10Z', 100), manifest('b', '2026-11-26T03:00:10Z', 200)],
      [verification(true, '2026-11-25T04:30:00Z'), verification(false, '2026-11-26T04:30:00Z')],
    );
    const text = backupMetricsText(s);
    assert.match(
      text,
      new RegExp(`^kstack_backup_last_success_timestamp_seconds ${Date.UTC(2026, 10, 26, 3, 0, 10) / 1000}$`, 'm'),
    );
    assert.match(text, /^kstack_backup_last_size_bytes 200$/m);
    assert.match(text, /^kstack_backup_last_duration_seconds 4$/m);
    assert.match(
      text,
      new RegExp(`^kstack_backup_verified_timestamp_seconds ${Date.UTC(2026, 10, 25, 4, 30) / 1000}$`, 'm'),
      'a failed verification does not count',
    );
    assert.match(text, /^kstack_backups 2$/m);
    assert.match(text, /^kstack_backup_verify_failed 1$/m, 'the newest verification failed');
    const passed = backupMetricsText(
      summariseBackups([], [verification(false, '2026-11-25T04:30:00Z'), verification(true, '2026-11-26T04:30:00Z')]),
    );
    assert.match(passed, /^kstack_backup_verify_failed 0$/m, 'a later verification passed');
  });
  it('reports zeros when there is no backup yet', () => {
    assert.match(backupMetricsText(summariseBackups([], [])), /^kstack_backup_last_success_timestamp_seconds 0$/m);
  });
});
