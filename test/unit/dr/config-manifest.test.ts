// Storage target configuration and the manifest/verification records: strict parsing, errors that name the field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyUnder, parseStorageConfig } from '../../../src/s3/object-store.js';
import {
  backupIdTime,
  compareTables,
  isBackupId,
  newBackupId,
  parseManifest,
  parseVerification,
  type Manifest,
} from '../../../src/dr/manifest.js';

import { memberTarget, parseDbTarget } from '../../../src/dr/db.js';

const base = { KSTACK_DR_S3_BUCKET: 'backups', KSTACK_DR_S3_ACCESS_KEY_ID: 'AK', KSTACK_DR_S3_SECRET_ACCESS_KEY: 'SK' };
const noFiles = (p: string): string => {
  throw new Error(`ENOENT: ${p}`);
};

describe('storage target config', () => {
  it('reads an S3-compatible endpoint with path-style default and a normalised prefix', () => {
    const c = parseStorageConfig(
      { ...base, KSTACK_DR_S3_ENDPOINT: 'http://127.0.0.1:9000/', KSTACK_DR_S3_PREFIX: '/prod/db/' },
      noFiles,
    );
    assert.deepEqual(c, {
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'backups',
      prefix: 'prod/db',
      region: 'us-east-1',
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      forcePathStyle: true,
    });
    assert.equal(keyUnder(c.prefix, 'backups', 'x', 'manifest.json'), 'prod/db/backups/x/manifest.json');
    assert.equal(keyUnder('', 'backups'), 'backups');
  });

  it('reads credentials from mounted files', () => {
    const files: Record<string, string> = { '/s/id': 'AKF\n', '/s/secret': 'SKF\n' };
    const c = parseStorageConfig(
      {
        KSTACK_DR_S3_BUCKET: 'b-1',
        KSTACK_DR_S3_REGION: 'eu-west-1',
        KSTACK_DR_S3_ACCESS_KEY_ID_FILE: '/s/id',
        KSTACK_DR_S3_SECRET_ACCESS_KEY_FILE: '/s/secret',
      },
      (p) => files[p] ?? noFiles(p),
    );
    assert.equal(c.accessKeyId, 'AKF');
    assert.equal(c.secretAccessKey, 'SKF');
    assert.equal(c.endpoint, undefined);
    assert.equal(c.forcePathStyle, false);
  });

  for (const [what, env, err] of [
    ['no bucket', { ...base, KSTACK_DR_S3_BUCKET: undefined }, /KSTACK_DR_S3_BUCKET: not set/],
    ['a bad bucket', { ...base, KSTACK_DR_S3_BUCKET: 'Bad_Bucket' }, /KSTACK_DR_S3_BUCKET: 'Bad_Bucket'/],
    [
      'a bad endpoint',
      { ...base, KSTACK_DR_S3_ENDPOINT: 'minio:9000' },
      /KSTACK_DR_S3_ENDPOINT: .*scheme|KSTACK_DR_S3_ENDPOINT: .*not a URL/,
    ],
    [
      'an endpoint with a path',
      { ...base, KSTACK_DR_S3_ENDPOINT: 'http://m:9000/bucket' },
      /KSTACK_DR_S3_ENDPOINT: must not contain a path/,
    ],
    ['no region for AWS', { ...base }, /KSTACK_DR_S3_REGION: required/],
    [
      'no secret key',
      { ...base, KSTACK_DR_S3_ENDPOINT: 'http://m:9000', KSTACK_DR_S3_SECRET_ACCESS_KEY: '' },
      /KSTACK_DR_S3_SECRET_ACCESS_KEY .*not set/,
    ],
    [
      'both key and key file',
      { ...base, KSTACK_DR_S3_ENDPOINT: 'http://m:9000', KSTACK_DR_S3_ACCESS_KEY_ID_FILE: '/x' },
      /both set/,
    ],
    [
      'an unreadable key file',
      {
        ...base,
        KSTACK_DR_S3_ENDPOINT: 'http://m:9000',
        KSTACK_DR_S3_ACCESS_KEY_ID: undefined,
        KSTACK_DR_S3_ACCESS_KEY_ID_FILE: '/nope',
      },
      /KSTACK_DR_S3_ACCESS_KEY_ID_FILE: cannot read \/nope/,
    ],
    [
      'a bad prefix',
      { ...base, KSTACK_DR_S3_ENDPOINT: 'http://m:9000', KSTACK_DR_S3_PREFIX: 'a/../b' },
      /KSTACK_DR_S3_PREFIX/,
    ],
    [
      'a bad path-style flag',
      { ...base, KSTACK_DR_S3_ENDPOINT: 'http://m:9000', KSTACK_DR_S3_PATH_STYLE: 'yes' },
      /KSTACK_DR_S3_PATH_STYLE: must be true or false/,
    ],
  ] as const) {
    it(`refuses ${what}, naming the variable`, () => {
      assert.throws(() => parseStorageConfig(env, noFiles), err);
    });
  }
});

const manifest: Manifest = {
  format: 1,
  id: '20261125T180512Z-3fa9c1',
  kind: 'logical',
  status: 'complete',
  startedAt: '2026-11-25T18:05:12.000Z',
  finishedAt: '2026-11-25T18:05:20.000Z',
  durationMs: 8000,
  server: { version: '10.11.19-MariaDB', member: 'db-0' },
  position: { gtid: '0-1-42', binlogFile: 'binlog.000003', binlogPos: 1234 },
  object: {
    key: 'p/backups/20261125T180512Z-3fa9c1/dump.sql.zst.enc',
    bytes: 1000,
    sha256: 'a'.repeat(64),
    dumpBytes: 5000,
    compression: 'zstd',
    encryption: { algorithm: 'AES-256-GCM-framed', keyId: '0123456789abcdef', frameBytes: 1048576 },
  },
  tables: { 'app.visits': { rows: 10, checksum: '123456' } },
};

describe('manifest', () => {
  it('round-trips through JSON', () => {
    assert.deepEqual(parseManifest(JSON.parse(JSON.stringify(manifest))), manifest);
  });

  for (const [what, change, err] of [
    ['an unknown field', { extra: 1 }, /unknown field 'extra'/],
    ['a bad status', { status: 'running' }, /field 'status' must be 'complete'/],
    ['a bad kind', { kind: 'tape' }, /field 'kind'/],
    ['a bad id', { id: 'latest' }, /field 'id'/],
    ['a bad gtid', { position: { ...manifest.position, gtid: 'x' } }, /field 'position.gtid'/],
    ['a bad sha256', { object: { ...manifest.object, sha256: 'XYZ' } }, /field 'object.sha256'/],
    ['a negative row count', { tables: { 'app.t': { rows: -1, checksum: '1' } } }, /field 'tables.app.t.rows'/],
    ['a table without db', { tables: { t: { rows: 1, checksum: '1' } } }, /field 'tables.t'/],
    ['a bad start time', { startedAt: 'yesterday' }, /field 'startedAt'/],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseManifest({ ...manifest, ...change }), err);
    });
  }

  it('makes sortable backup ids and reads their time back', () => {
    const id = newBackupId(new Date('2026-11-25T18:05:12.345Z'), '3fa9c1');
    assert.equal(id, '20261125T180512Z-3fa9c1');
    assert.ok(isBackupId(id));
    assert.equal(backupIdTime(id).toISOString(), '2026-11-25T18:05:12.000Z');
    assert.ok(newBackupId(new Date('2026-11-25T18:05:13Z'), '000000') > id);
  });

  it('compares restored tables with the manifest, naming each difference', () => {
    const want = {
      'a.t': { rows: 2, checksum: '5' },
      'a.u': { rows: 1, checksum: '7' },
      'a.v': { rows: 0, checksum: '0' },
    };
    assert.deepEqual(compareTables(want, want), []);
    assert.deepEqual(
      compareTables(want, {
        'a.t': { rows: 1, checksum: '5' },
        'a.u': { rows: 1, checksum: '8' },
        'a.w': { rows: 0, checksum: '0' },
      }),
      [
        'table a.t: 1 rows restored, manifest says 2',
        'table a.u: checksum 8 after restore, manifest says 7',
        'table a.v is missing after restore',
        'table a.w exists after restore but is not in the manifest',
      ],
    );
  });

  it('compares only row counts for a backup that recorded no checksums', () => {
    assert.deepEqual(compareTables({ 'a.t': { rows: 2, checksum: '' } }, { 'a.t': { rows: 2, checksum: '' } }), []);
    assert.deepEqual(compareTables({ 'a.t': { rows: 2, checksum: '' } }, { 'a.t': { rows: 3, checksum: '' } }), [
      'table a.t: 3 rows restored, manifest says 2',
    ]);
    assert.throws(
      () => parseManifest({ ...manifest, tables: { 'a.t': { rows: 1, checksum: 'x' } } }),
      /tables.a.t.checksum/,
    );
  });

  it('parses a verification record strictly', () => {
    const v = {
      format: 1,
      backupId: manifest.id,
      ok: true,
      verifiedAt: '2026-11-25T18:10:00.000Z',
      durationMs: 5,
      restoredInto: 'scratch mariadbd 10.11',
      problems: [],
    };
    assert.deepEqual(parseVerification(v), v);
    assert.throws(() => parseVerification({ ...v, ok: 'yes' }), /field 'ok'/);
  });
});

describe('database target', () => {
  const t = {
    socket: undefined,
    host: 'ws-webstack-db.shop.svc.cluster.local',
    port: 3306,
    user: 'kstack_backup',
    password: 'pw',
  };

  it('pins a Service target to the member that answered, by its stable name', () => {
    assert.deepEqual(memberTarget(t, 'ws-webstack-db-1', 'ws-webstack-db-headless.shop.svc.cluster.local'), {
      ...t,
      host: 'ws-webstack-db-1.ws-webstack-db-headless.shop.svc.cluster.local',
    });
    assert.throws(() => memberTarget(t, 'db_1; drop', 'x.svc'), {
      message: /calls itself 'db_1; drop', which is not a member name/,
    });
    assert.throws(() => memberTarget(t, 'db-1', 'bad domain'), {
      message: /^KSTACK_DR_DB_MEMBER_DOMAIN: 'bad domain' is not a DNS domain/,
    });
  });

  it('names the missing Secret key when the password file is not there', () => {
    const missing = (p: string): string => {
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    };
    assert.throws(
      () =>
        parseDbTarget(
          {
            KSTACK_DR_DB_USER: 'kstack_backup',
            KSTACK_DR_DB_PASSWORD_FILE: '/etc/webstack-db/secret/mariadb-backup-password',
          },
          missing,
        ),
      { message: /has no key 'mariadb-backup-password' \(with db\.auth\.existingSecret, add that key/ },
    );
    assert.equal(
      parseDbTarget({ KSTACK_DR_DB_USER: 'kstack_backup', KSTACK_DR_DB_PASSWORD_FILE: '/p' }, () => 'pw\n').password,
      'pw',
    );
  });
});
