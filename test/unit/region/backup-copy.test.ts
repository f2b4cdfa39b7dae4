// Backups across regions, the pure part (src/region/backup-copy.ts): the copy's names, what a round copies and
// in which order, which deletions of the source the copy follows, and the daemon's loop never stopping on errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  backupFolder,
  copyBucketName,
  copyIntervalMs,
  copyKeySecretName,
  formatCopyStatus,
  keysToInspect,
  nextStatus,
  planBackupCopy,
  readyLast,
  type CopyRoundResult,
  type ObjectInfo,
} from '../../../src/region/backup-copy.js';
import { runCopyLoop } from '../../../src/region/backup-copy-run.js';
import { keyCopy } from '../../../src/region/backup-keys.js';

const o = (key: string, size = 10, etag = `e-${key}`): ObjectInfo => ({ key, size, etag });
const B1 = 'webstack/backups/20261201T000000Z-aaaaaa';
const B2 = 'webstack/backups/20261202T000000Z-bbbbbb';

describe('the copy bucket and key Secret names', () => {
  it('name the region and refuse a bad one, naming the flag', () => {
    assert.equal(copyBucketName('east'), 'kstack-backups-from-east');
    assert.equal(copyKeySecretName('east'), 'kstack-backup-key-from-east');
    assert.throws(() => copyBucketName('East_1'), /--from-region 'East_1'.*lowercase DNS label/);
    assert.ok(copyBucketName('a'.repeat(32)).length <= 63, 'a bucket name is at most 63 characters');
  });

  it("copies a region's backup key under its own name, with the key only", () => {
    const s = keyCopy(
      { metadata: { name: 'web-webstack-backup-key' }, data: { 'backup-key': 'S0VZ', x: 'y' } },
      'east',
      'ns',
    );
    assert.equal(s.metadata?.name, 'kstack-backup-key-from-east');
    assert.equal(s.metadata?.namespace, 'ns');
    assert.deepEqual(s.data, { 'backup-key': 'S0VZ' });
  });
});

describe('planBackupCopy: what a round copies', () => {
  it('copies what the copy lacks or holds with another size or content; manifests and indexes last', () => {
    const source = [
      o(`${B1}/dump.sql.zst.enc`),
      o(`${B1}/manifest.json`),
      o(`${B2}/dump.sql.zst.enc`, 20),
      o(`${B2}/verification.json`),
      o('webstack/binlogs/m0/index.json'),
    ];
    const copy = [
      o(`${B1}/dump.sql.zst.enc`),
      o(`${B2}/dump.sql.zst.enc`, 19),
      { ...o(`${B2}/verification.json`), etag: 'x' },
    ];
    const plan = planBackupCopy(source, copy);
    assert.equal(plan.unchanged, 1);
    assert.deepEqual(
      plan.copy.map((c) => [c.key, c.why]),
      [
        [`${B2}/dump.sql.zst.enc`, 'size differs'],
        [`${B2}/verification.json`, 'content differs'],
      ],
    );
    assert.deepEqual(
      plan.copyLast.map((c) => c.key),
      [`${B1}/manifest.json`, 'webstack/binlogs/m0/index.json'],
    );
    assert.deepEqual(plan.remove, []);
  });

  it("takes a copy whose own ETag differs but which records the source's as the same content", () => {
    const source = [o('k', 10, 'abc-3')];
    const copy = [{ ...o('k', 10, 'def-2') }];
    assert.deepEqual(keysToInspect(source, copy), ['k']);
    assert.equal(planBackupCopy(source, [{ ...copy[0]!, sourceEtag: 'abc-3' }]).unchanged, 1);
    assert.equal(planBackupCopy(source, [{ ...copy[0]!, sourceEtag: 'old-3' }]).copy.length, 1);
    assert.deepEqual(keysToInspect(source, [o('k', 11, 'def-2')]), [], 'another size is copied anyway');
  });

  it("holds a folder's manifest back while another object of the folder failed this round", () => {
    const plan = planBackupCopy([o(`${B1}/dump.sql.zst.enc`), o(`${B1}/manifest.json`), o(`${B2}/manifest.json`)], []);
    assert.deepEqual(
      readyLast(plan, new Set([`${B1}/dump.sql.zst.enc`])).map((c) => c.key),
      [`${B2}/manifest.json`],
    );
    assert.equal(readyLast(plan, new Set()).length, 2);
  });
});

describe("planBackupCopy: deletions follow the source's retention, never more", () => {
  it('removes a backup the source removed while it holds a newer complete one, manifest first', () => {
    const source = [o(`${B2}/dump.sql.zst.enc`), o(`${B2}/manifest.json`)];
    const copy = [o(`${B1}/dump.sql.zst.enc`), o(`${B1}/manifest.json`), ...source];
    const plan = planBackupCopy(source, copy);
    assert.deepEqual(
      plan.remove.map((r) => r.key),
      [`${B1}/manifest.json`, `${B1}/dump.sql.zst.enc`],
    );
    assert.match(plan.remove[0]?.why ?? '', /removed in the source, which holds the newer 20261202T000000Z-bbbbbb/);
  });

  it('keeps everything when the source has no newer complete backup (empty, or only unfinished folders)', () => {
    const copy = [o(`${B1}/dump.sql.zst.enc`), o(`${B1}/manifest.json`)];
    assert.deepEqual(planBackupCopy([], copy).remove, []);
    assert.equal(planBackupCopy([], copy).keep.length, 2);
    assert.deepEqual(planBackupCopy([o(`${B2}/dump.sql.zst.enc`)], copy).remove, []);
  });

  it('keeps objects outside backup folders, and extra objects of a backup the source still has', () => {
    const source = [o(`${B1}/manifest.json`), o(`${B2}/manifest.json`)];
    const copy = [...source, o('webstack/binlogs/m0/mariadb-bin.000001.x'), o(`${B1}/verification.json`)];
    const plan = planBackupCopy(source, copy);
    assert.deepEqual(plan.remove, []);
    assert.deepEqual(
      plan.keep.map((k) => k.why),
      [
        'not in a backup folder: only backup folders follow the retention',
        'backup 20261201T000000Z-aaaaaa is still complete in the source',
      ],
    );
  });

  it('never removes a key the source has', () => {
    const source = [o(`${B1}/dump.sql.zst.enc`), o(`${B2}/manifest.json`)];
    const copy = [o(`${B1}/dump.sql.zst.enc`), o(`${B1}/manifest.json`)];
    assert.deepEqual(
      planBackupCopy(source, copy).remove.map((r) => r.key),
      [`${B1}/manifest.json`],
    );
  });

  it('reads backup folders under any prefix, and nothing else', () => {
    assert.deepEqual(backupFolder('p/q/backups/ID/x'), { base: 'p/q/backups/', id: 'ID' });
    assert.deepEqual(backupFolder('backups/ID/x'), { base: 'backups/', id: 'ID' });
    assert.equal(backupFolder('p/backups/ID'), undefined);
    assert.equal(backupFolder('p/binlogs/m/x'), undefined);
  });
});

const result = (ok: boolean, finishedAt: string): CopyRoundResult => ({
  from: 'east',
  to: 'west',
  bucket: 'kstack-backups-from-east',
  startedAt: finishedAt,
  finishedAt,
  ok,
  objects: 3,
  unchanged: 1,
  copied: 2,
  bytes: 20,
  removed: 0,
  kept: 0,
  pending: ok ? 0 : 1,
  errors: ok ? [] : ['k: boom'],
});

describe('the status of the copy', () => {
  it('keeps the last complete round when a later one fails, and says both', () => {
    const s = nextStatus(nextStatus({}, result(true, '2026-12-01T00:00:00Z')), result(false, '2026-12-01T00:00:30Z'));
    assert.equal(s.lastComplete?.finishedAt, '2026-12-01T00:00:00Z');
    const text = formatCopyStatus(s, new Date('2026-12-01T00:01:00Z'));
    assert.match(text, /east → west, bucket kstack-backups-from-east/);
    assert.match(text, /last round: incomplete, finished 30 s ago/);
    assert.match(text, /error: k: boom/);
    assert.match(text, /last complete copy: finished 60 s ago \(3 object\(s\)/);
    assert.match(formatCopyStatus({}, new Date()), /no copy round has run yet/);
  });

  it('reads the interval from the environment, refusing a bad one by name', () => {
    assert.equal(copyIntervalMs({}), 30_000);
    assert.equal(copyIntervalMs({ KSTACK_REGION_BACKUP_COPY_SECONDS: '5' }), 5_000);
    assert.throws(
      () => copyIntervalMs({ KSTACK_REGION_BACKUP_COPY_SECONDS: '0' }),
      /KSTACK_REGION_BACKUP_COPY_SECONDS: must be a whole number of seconds from 1 to 86400; got '0'/,
    );
  });
});

describe('the copy loop', () => {
  it('runs rounds one at a time, goes on after a failed one and stops when aborted', async () => {
    const stop = new AbortController();
    const seen: string[] = [];
    let running = 0;
    let n = 0;
    await runCopyLoop({
      intervalMs: 1,
      signal: stop.signal,
      round: async () => {
        running++;
        assert.equal(running, 1, 'one round at a time');
        await new Promise((r) => setTimeout(r, 2));
        running--;
        n++;
        if (n === 2) throw new Error('storage down');
        if (n === 4) stop.abort();
        return result(true, new Date().toISOString());
      },
      onResult: () => seen.push('ok'),
      onError: (err) => seen.push((err as Error).message),
    });
    assert.deepEqual(seen, ['ok', 'storage down', 'ok', 'ok']);
  });
});
