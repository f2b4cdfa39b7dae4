// Backups across regions (src/region/backup-copy-run.ts) between two real S3 servers (MinIO built from its Go
// module) on loopback, one per region: a round copies every object, a large encrypted multipart one included,
// into the copy bucket and a second round copies nothing; a round stopped in the middle of a large object
// leaves nothing under its key (nor its manifest) and the next round completes it; deletions follow the
// source's retention rule and nothing else; the copied backup decrypts to what was written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { DecryptStream, EncryptStream, keyIdOf } from '../../../src/dr/encrypt.js';
import { copyBucketName } from '../../../src/region/backup-copy.js';
import { copyRound } from '../../../src/region/backup-copy-run.js';
import { ObjectStore } from '../../../src/s3/object-store.js';
import { MinioServer } from '../../helpers/minio.js';

const MiB = 1024 * 1024;
const B1 = 'webstack/backups/20261201T000000Z-aaaaaa';
const B2 = 'webstack/backups/20261202T000000Z-bbbbbb';
const B3 = 'webstack/backups/20261203T000000Z-cccccc';
const BINLOG = 'webstack/binlogs/web-webstack-db-0/mariadb-bin.000001.20261201T000000Z';
const BINLOG_INDEX = 'webstack/binlogs/web-webstack-db-0/index.json';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function uploadEncrypted(store: ObjectStore, key: string, plain: Buffer, master: Buffer): Promise<void> {
  const enc = new EncryptStream({ key: master, id: keyIdOf(master) });
  Readable.from([plain]).pipe(enc);
  // 5 MiB parts, not the copy's: the copy's ETag then differs from the source's and the recorded one counts.
  await store.putStream(key, enc, { partSize: 5 * MiB });
}

async function keysOf(store: ObjectStore): Promise<string[]> {
  return (await store.list('')).map((o) => o.key).sort();
}

describe('backups across regions: a copy between two real S3 servers', { timeout: 300_000 }, () => {
  let dir: string;
  let east: MinioServer;
  let west: MinioServer;
  let source: ObjectStore;
  let target: ObjectStore;
  const master = randomBytes(32);
  const dump2 = randomBytes(24 * MiB);
  const dump3 = randomBytes(48 * MiB);
  const round = (signal?: AbortSignal): ReturnType<typeof copyRound> =>
    copyRound({ from: 'east', to: 'west', source, target, ...(signal ? { signal } : {}) });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kstack-backup-copy-'));
    [east, west] = await Promise.all([MinioServer.start(join(dir, 'east')), MinioServer.start(join(dir, 'west'))]);
    source = await east.store('kstack-backups');
    // The copy bucket is not made here: the round makes it on the standby's server.
    target = new ObjectStore(west.config(copyBucketName('east')), { maxAttempts: 2 });
    await source.putBytes(`${B1}/dump.sql.zst.enc`, randomBytes(1000), 'application/octet-stream');
    await source.putBytes(`${B1}/manifest.json`, '{"id":"b1"}');
    await source.putBytes(`${B1}/verification.json`, '{"ok":true}');
    await uploadEncrypted(source, `${B2}/dump.sql.zst.enc`, dump2, master);
    await source.putBytes(`${B2}/manifest.json`, '{"id":"b2"}');
    await source.putBytes(BINLOG, randomBytes(3000), 'application/octet-stream');
    await source.putBytes(BINLOG_INDEX, '{"files":[]}');
  });

  after(async () => {
    source.destroy();
    target.destroy();
    await Promise.allSettled([east.stop(false), west.stop(false)]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every object into the copy bucket, the large multipart one with the same bytes', async () => {
    const r = await round();
    assert.equal(r.ok, true, r.errors.join('; '));
    assert.equal(r.copied, 7);
    assert.equal(r.bucket, 'kstack-backups-from-east');
    assert.deepEqual(await keysOf(target), await keysOf(source));
    for (const key of await keysOf(source))
      assert.equal(sha(await target.getBytes(key)), sha(await source.getBytes(key)), key);
    const [s, t] = await Promise.all([source.head(`${B2}/dump.sql.zst.enc`), target.head(`${B2}/dump.sql.zst.enc`)]);
    assert.match(s?.etag ?? '', /-5$/, 'the source object is multipart (5 parts)');
    assert.notEqual(t?.etag, s?.etag, "the copy's own ETag differs (8 MiB parts)…");
    assert.equal(t?.metadata['kstack-source-etag'], s?.etag, "…and it records the source's");
    const again = await round();
    assert.equal(again.ok, true);
    assert.equal(again.copied, 0, 'nothing is copied twice');
    assert.equal(again.unchanged, 7);
  });

  it('a round stopped inside a large object leaves nothing under its key; the next completes it', async () => {
    await uploadEncrypted(source, `${B3}/dump.sql.zst.enc`, dump3, master);
    await source.putBytes(`${B3}/manifest.json`, '{"id":"b3"}');
    const stop = new AbortController();
    const uploading = (async (): Promise<void> => {
      for (let i = 0; i < 2000 && !stop.signal.aborted; i++) {
        const res = await target.client.send(new ListMultipartUploadsCommand({ Bucket: target.cfg.bucket }));
        if ((res.Uploads ?? []).some((u) => u.Key === `${B3}/dump.sql.zst.enc`)) break;
        await sleep(10);
      }
      stop.abort();
    })();
    const r = await round(stop.signal);
    await uploading;
    assert.equal(r.ok, false);
    assert.equal(r.pending, 2, 'the dump and, after it, its manifest');
    assert.equal(await target.head(`${B3}/dump.sql.zst.enc`), undefined, 'no partial object under the key');
    assert.equal(await target.head(`${B3}/manifest.json`), undefined, 'no manifest without its dump');
    const open = await target.client.send(new ListMultipartUploadsCommand({ Bucket: target.cfg.bucket }));
    assert.deepEqual(open.Uploads ?? [], [], 'the unfinished upload was aborted');
    const next = await round();
    assert.equal(next.ok, true, next.errors.join('; '));
    assert.equal(next.copied, 2);
    assert.equal(
      sha(await target.getBytes(`${B3}/dump.sql.zst.enc`)),
      sha(await source.getBytes(`${B3}/dump.sql.zst.enc`)),
    );
  });

  it("deletions follow the source's retention: a removed older backup goes, everything else stays", async () => {
    // The source's retention removes backup 1 (manifest first); a binlog file goes too (outside backup folders).
    await source.delete([`${B1}/manifest.json`]);
    await source.delete([`${B1}/dump.sql.zst.enc`, `${B1}/verification.json`, BINLOG]);
    const r = await round();
    assert.equal(r.ok, true, r.errors.join('; '));
    assert.equal(r.removed, 3);
    const keys = await keysOf(target);
    assert.ok(!keys.some((k) => k.startsWith(`${B1}/`)), 'backup 1 is gone from the copy');
    assert.ok(keys.includes(BINLOG), 'a binlog the source lost is kept');
    assert.equal(r.kept, 1);
    // The newest backup vanishing from the source is no retention (retention keeps the newest): kept.
    await source.delete([`${B3}/manifest.json`, `${B3}/dump.sql.zst.enc`]);
    const r2 = await round();
    assert.equal(r2.removed, 0);
    assert.ok((await keysOf(target)).includes(`${B3}/manifest.json`));
    // A source that lost its storage (empty) makes the copy delete nothing.
    await source.delete(await keysOf(source));
    const r3 = await round();
    assert.equal(r3.ok, true);
    assert.equal(r3.removed, 0);
    assert.equal(r3.objects, 0);
    assert.deepEqual(
      await keysOf(target),
      [
        `${B2}/dump.sql.zst.enc`,
        `${B2}/manifest.json`,
        `${B3}/dump.sql.zst.enc`,
        `${B3}/manifest.json`,
        BINLOG,
        BINLOG_INDEX,
      ].sort(),
    );
  });

  it("reads the copied backups back with the primary's key, from the standby's server alone", async () => {
    await east.stop(false); // the primary region is gone with its storage
    for (const [key, plain] of [
      [`${B2}/dump.sql.zst.enc`, dump2],
      [`${B3}/dump.sql.zst.enc`, dump3],
    ] as const) {
      const chunks: Buffer[] = [];
      await pipeline(
        await target.getStream(key),
        new DecryptStream({ key: master, id: keyIdOf(master) }),
        async (s) => {
          for await (const c of s) chunks.push(c as Buffer);
        },
      );
      assert.equal(sha(Buffer.concat(chunks)), sha(plain), key);
    }
  });
});
