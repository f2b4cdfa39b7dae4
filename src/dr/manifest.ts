// The per-backup manifest (written last, only when a backup succeeded) and the verification record that
// `verify` writes next to it. Strict parsing: a manifest that does not have exactly the expected shape is
// refused with the field named, because restore and retention decide on what it says.
import { UserError } from '../util/errors.js';

export type BackupKind = 'logical' | 'physical';

/** Row count and content checksum of one table at the backup's snapshot. */
export interface TableStat {
  rows: number;
  /**
   * Order-independent checksum of the rows (see docs/dr.md): 'crc32c:<sum>',
   * a bare decimal (older backups), or '' when the backup counted rows only.
   */
  checksum: string;
}

export interface Manifest {
  format: 1;
  id: string;
  kind: BackupKind;
  status: 'complete';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  server: { version: string; member: string };
  /** The position the dump is consistent with: every transaction up to it is in the dump, none after. */
  position: { gtid: string; binlogFile: string | null; binlogPos: number | null };
  object: {
    key: string;
    /** Bytes stored (encrypted). */
    bytes: number;
    sha256: string;
    /** Bytes of the SQL dump before compression. */
    dumpBytes: number;
    compression: 'zstd';
    encryption: { algorithm: 'AES-256-GCM-framed'; keyId: string; frameBytes: number };
  };
  /** `db.table` → stats. */
  tables: Record<string, TableStat>;
}

export interface Verification {
  format: 1;
  backupId: string;
  ok: boolean;
  /** backup_verified_timestamp when ok. */
  verifiedAt: string;
  durationMs: number;
  restoredInto: string;
  problems: string[];
}

const ID_RE = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

/** Backup ids sort by time: 20261125T180512Z-3fa9c1. */
export function newBackupId(now: Date, random: string): string {
  const iso = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${iso}-${random}`;
}

export function isBackupId(s: string): boolean {
  return ID_RE.test(s);
}

/** The time a backup id was made at. */
export function backupIdTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  if (!m) throw new UserError(`'${id}' is not a backup id (expected e.g. 20261125T180512Z-3fa9c1)`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

type Obj = Record<string, unknown>;

function fail(where: string, field: string, expected: string, got: unknown): never {
  throw new UserError(
    `${where}: field '${field}' must be ${expected}; got ${got === undefined ? 'nothing' : JSON.stringify(got)}`,
  );
}

function obj(v: unknown, where: string, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, field, 'an object', v);
  return v as Obj;
}

function exactKeys(o: Obj, keys: readonly string[], where: string, field: string): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length > 0)
    throw new UserError(
      `${where}: unknown field '${field ? `${field}.` : ''}${extra[0] ?? ''}'; allowed: ${keys.join(', ')}`,
    );
}

function str(o: Obj, k: string, where: string, prefix: string, re?: RegExp): string {
  const v = o[k];
  if (typeof v !== 'string' || (re && !re.test(v)))
    fail(where, prefix + k, re ? `a string matching ${String(re)}` : 'a string', v);
  return v;
}

function int(o: Obj, k: string, where: string, prefix: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, prefix + k, 'a non-negative integer', v);
  return v;
}

function date(o: Obj, k: string, where: string, prefix: string): string {
  const v = str(o, k, where, prefix);
  if (Number.isNaN(Date.parse(v)) || !/^\d{4}-\d{2}-\d{2}T/.test(v)) fail(where, prefix + k, 'an ISO-8601 time', v);
  return v;
}

const HEX64 = /^[0-9a-f]{64}$/;
const GTID_RE = /^$|^\d+-\d+-\d+(,\d+-\d+-\d+)*$/;

export function parseManifest(raw: unknown, where = 'manifest.json'): Manifest {
  const o = obj(raw, where, '(top)');
  exactKeys(
    o,
    [
      'format',
      'id',
      'kind',
      'status',
      'startedAt',
      'finishedAt',
      'durationMs',
      'server',
      'position',
      'object',
      'tables',
    ],
    where,
    '',
  );
  if (o.format !== 1) fail(where, 'format', '1', o.format);
  const id = str(o, 'id', where, '', ID_RE);
  if (o.kind !== 'logical' && o.kind !== 'physical') fail(where, 'kind', "'logical' or 'physical'", o.kind);
  if (o.status !== 'complete') fail(where, 'status', "'complete'", o.status);
  const server = obj(o.server, where, 'server');
  exactKeys(server, ['version', 'member'], where, 'server');
  const position = obj(o.position, where, 'position');
  exactKeys(position, ['gtid', 'binlogFile', 'binlogPos'], where, 'position');
  const binlogFile = position.binlogFile === null ? null : str(position, 'binlogFile', where, 'position.');
  const binlogPos = position.binlogPos === null ? null : int(position, 'binlogPos', where, 'position.');
  const object = obj(o.object, where, 'object');
  exactKeys(object, ['key', 'bytes', 'sha256', 'dumpBytes', 'compression', 'encryption'], where, 'object');
  if (object.compression !== 'zstd') fail(where, 'object.compression', "'zstd'", object.compression);
  const enc = obj(object.encryption, where, 'object.encryption');
  exactKeys(enc, ['algorithm', 'keyId', 'frameBytes'], where, 'object.encryption');
  if (enc.algorithm !== 'AES-256-GCM-framed')
    fail(where, 'object.encryption.algorithm', "'AES-256-GCM-framed'", enc.algorithm);
  const tablesRaw = obj(o.tables, where, 'tables');
  const tables: Record<string, TableStat> = {};
  for (const [name, v] of Object.entries(tablesRaw)) {
    if (!/^[^.]+\..+$/.test(name)) fail(where, `tables.${name}`, 'named db.table', name);
    const t = obj(v, where, `tables.${name}`);
    exactKeys(t, ['rows', 'checksum'], where, `tables.${name}`);
    tables[name] = {
      rows: int(t, 'rows', where, `tables.${name}.`),
      checksum: str(t, 'checksum', where, `tables.${name}.`, /^(\d*|crc32c:\d+)$/),
    };
  }
  return {
    format: 1,
    id,
    kind: o.kind,
    status: 'complete',
    startedAt: date(o, 'startedAt', where, ''),
    finishedAt: date(o, 'finishedAt', where, ''),
    durationMs: int(o, 'durationMs', where, ''),
    server: { version: str(server, 'version', where, 'server.'), member: str(server, 'member', where, 'server.') },
    position: { gtid: str(position, 'gtid', where, 'position.', GTID_RE), binlogFile, binlogPos },
    object: {
      key: str(object, 'key', where, 'object.'),
      bytes: int(object, 'bytes', where, 'object.'),
      sha256: str(object, 'sha256', where, 'object.', HEX64),
      dumpBytes: int(object, 'dumpBytes', where, 'object.'),
      compression: 'zstd',
      encryption: {
        algorithm: 'AES-256-GCM-framed',
        keyId: str(enc, 'keyId', where, 'object.encryption.', /^[0-9a-f]{16}$/),
        frameBytes: int(enc, 'frameBytes', where, 'object.encryption.'),
      },
    },
    tables,
  };
}

export function parseVerification(raw: unknown, where = 'verification.json'): Verification {
  const o = obj(raw, where, '(top)');
  exactKeys(o, ['format', 'backupId', 'ok', 'verifiedAt', 'durationMs', 'restoredInto', 'problems'], where, '');
  if (o.format !== 1) fail(where, 'format', '1', o.format);
  if (typeof o.ok !== 'boolean') fail(where, 'ok', 'true or false', o.ok);
  if (!Array.isArray(o.problems) || o.problems.some((p) => typeof p !== 'string'))
    fail(where, 'problems', 'a list of strings', o.problems);
  return {
    format: 1,
    backupId: str(o, 'backupId', where, '', ID_RE),
    ok: o.ok,
    verifiedAt: date(o, 'verifiedAt', where, ''),
    durationMs: int(o, 'durationMs', where, ''),
    restoredInto: str(o, 'restoredInto', where, ''),
    problems: o.problems as string[],
  };
}

/** Differences between the stats a manifest claims and the stats measured after a restore: empty when they agree. */
export function compareTables(expected: Record<string, TableStat>, actual: Record<string, TableStat>): string[] {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    if (!got) {
      problems.push(`table ${name} is missing after restore`);
      continue;
    }
    if (got.rows !== want.rows) problems.push(`table ${name}: ${got.rows} rows restored, manifest says ${want.rows}`);
    else if (want.checksum !== '' && got.checksum !== want.checksum)
      problems.push(`table ${name}: checksum ${got.checksum} after restore, manifest says ${want.checksum}`);
  }
  for (const name of Object.keys(actual))
    if (!(name in expected)) problems.push(`table ${name} exists after restore but is not in the manifest`);
  return problems;
}
