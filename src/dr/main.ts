// Entry point for the backup image and for operators:
//   node dist/src/dr/main.js backup [--physical]|verify|restore|retention|list|metrics [--backup-id ID]
// Configuration comes from the environment and mounted files (docs/dr.md): KSTACK_DR_S3_*, KSTACK_DR_KEY_FILE,
// KSTACK_DR_DB_*, KSTACK_DR_RETENTION_*, KSTACK_DR_WORK_DIR, KSTACK_DR_RESTORE_DATADIR. Progress goes to stderr;
// the result is one JSON line on stdout.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { UserError, messageOf } from '../util/errors.js';
import { createProgress, type Progress } from '../util/progress.js';
import { runBackup } from './backup.js';
import { findBackup, listCatalog, type CatalogEntry } from './catalog.js';
import { describeTarget, parseDbTarget, pinMember } from './db.js';
import { parseKey, type EncryptionKey } from './encrypt.js';
import type { Manifest, Verification } from './manifest.js';
import { runPhysicalBackup, runPhysicalRestore, type PhysicalRestoreResult } from './physical.js';
import { parseRetentionPolicy, runRetention, type RetentionDecision } from './retention.js';
import { RESTORE_DATADIR_ENV, runRestore, type RestoreOptions, type RestoreResult } from './restore.js';
import { ObjectStore, parseStorageConfig } from '../s3/object-store.js';
import { runVerify } from './verify.js';

export const KEY_ENV = 'KSTACK_DR_KEY_FILE';

/** The encryption key from the file KSTACK_DR_KEY_FILE names (a mounted Secret). */
export function loadKey(
  env: NodeJS.ProcessEnv,
  readFile: (p: string) => Buffer = (p) => readFileSync(p),
): EncryptionKey {
  const file = env[KEY_ENV];
  if (!file) throw new UserError(`${KEY_ENV}: not set; point it at the 32-byte encryption key (e.g. a mounted Secret)`);
  let data: Buffer;
  try {
    data = readFile(file);
  } catch (err) {
    throw new UserError(
      `${KEY_ENV}: cannot read ${file} (${messageOf(err)}); mount the key Secret there or fix the path`,
    );
  }
  return parseKey(data, `${KEY_ENV} (${file})`);
}

export interface DrContext {
  env: NodeJS.ProcessEnv;
  progress: Progress;
}

function storeFrom(env: NodeJS.ProcessEnv): ObjectStore {
  return new ObjectStore(parseStorageConfig(env));
}

/**
 * A logical backup (the default), or with `physical` a mariadb-backup copy of a LOCAL server's files
 * (`datadir` overrides the server's @@datadir).
 */
export async function backupCommand(ctx: DrContext, physical = false, datadir?: string): Promise<Manifest> {
  const store = storeFrom(ctx.env);
  try {
    const { target, member } = await ctx.progress.step('choose a Synced member to back up from', async (step) => {
      const pinned = await pinMember(parseDbTarget(ctx.env), ctx.env);
      step.detail(describeTarget(pinned.target));
      return pinned;
    });
    const common = {
      db: target,
      store,
      key: loadKey(ctx.env),
      progress: ctx.progress,
      member: member ?? (ctx.env.KSTACK_DR_MEMBER || undefined),
    };
    if (physical)
      return await runPhysicalBackup({ ...common, datadir, workDir: ctx.env.KSTACK_DR_WORK_DIR || undefined });
    if (datadir !== undefined)
      throw new UserError('--datadir is only for physical backups; add --physical or drop --datadir');
    return await runBackup(common);
  } finally {
    store.destroy();
  }
}

export async function verifyCommand(ctx: DrContext, backupId?: string): Promise<Verification> {
  const store = storeFrom(ctx.env);
  try {
    return await runVerify({
      store,
      key: loadKey(ctx.env),
      progress: ctx.progress,
      backupId,
      workDir: ctx.env.KSTACK_DR_WORK_DIR || undefined,
    });
  } finally {
    store.destroy();
  }
}

/**
 * Restores by the backup's kind: a logical backup into the server KSTACK_DR_DB_* names, a physical one into
 * the empty directory `datadir` (--datadir or KSTACK_DR_RESTORE_DATADIR).
 */
export async function restoreCommand(
  ctx: DrContext,
  backupId?: string,
  afterDump?: RestoreOptions['afterDump'],
  datadir?: string,
): Promise<RestoreResult | (PhysicalRestoreResult & { kind: 'physical' })> {
  const store = storeFrom(ctx.env);
  try {
    const manifest = await findBackup(store, backupId);
    if (manifest.kind === 'physical') {
      if (afterDump)
        throw new UserError(
          `backup ${manifest.id} is a physical backup; point-in-time recovery here replays ` +
            `binlogs into a running server after a logical backup: restore a logical ` +
            `backup, or restore this one with main.js restore --datadir DIR, start mariadbd ` +
            `on DIR and replay the binlogs from ${manifest.position.binlogFile ?? '?'}:` +
            `${manifest.position.binlogPos ?? '?'} (GTID ${manifest.position.gtid || 'none'})`,
        );
      if (!datadir)
        throw new UserError(
          `backup ${manifest.id} is a physical backup (the server's files): give the ` +
            `empty directory to restore it into with --datadir DIR or ${RESTORE_DATADIR_ENV}`,
        );
      return {
        kind: 'physical',
        ...(await runPhysicalRestore({ store, key: loadKey(ctx.env), datadir, progress: ctx.progress, manifest })),
      };
    }
    if (datadir)
      throw new UserError(
        `backup ${manifest.id} is a logical backup; it restores into the running server ` +
          `KSTACK_DR_DB_* names, not into a datadir: drop --datadir / ${RESTORE_DATADIR_ENV}`,
      );
    const { target } = await pinMember(parseDbTarget(ctx.env), ctx.env);
    return await runRestore({ store, key: loadKey(ctx.env), target, progress: ctx.progress, manifest, afterDump });
  } finally {
    store.destroy();
  }
}

export async function retentionCommand(ctx: DrContext): Promise<RetentionDecision> {
  const store = storeFrom(ctx.env);
  try {
    return await runRetention(store, parseRetentionPolicy(ctx.env), ctx.progress);
  } finally {
    store.destroy();
  }
}

export async function listCommand(ctx: DrContext): Promise<CatalogEntry[]> {
  const store = storeFrom(ctx.env);
  try {
    return await listCatalog(store);
  } finally {
    store.destroy();
  }
}

/** Prometheus text for the backup metrics, from what the storage holds. */
export function renderMetrics(entries: readonly CatalogEntry[]): string {
  const complete = entries.filter((e) => e.manifest);
  const last = complete.at(-1)?.manifest;
  const verified = complete.filter((e) => e.verification?.ok).at(-1)?.verification;
  const lines: string[] = [];
  const metric = (name: string, help: string, value: number | undefined): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    if (value !== undefined) lines.push(`${name} ${value}`);
  };
  metric(
    'kstack_backup_last_success_timestamp_seconds',
    'End time of the newest complete backup.',
    last ? Date.parse(last.finishedAt) / 1000 : undefined,
  );
  metric(
    'kstack_backup_verified_timestamp_seconds',
    'When the newest verified backup passed verification (backup_verified_timestamp).',
    verified ? Date.parse(verified.verifiedAt) / 1000 : undefined,
  );
  metric(
    'kstack_backup_last_duration_seconds',
    'Duration of the newest complete backup.',
    last ? last.durationMs / 1000 : undefined,
  );
  metric('kstack_backup_last_size_bytes', 'Stored size of the newest complete backup.', last?.object.bytes);
  metric('kstack_backup_count', 'Complete backups in storage.', complete.length);
  return `${lines.join('\n')}\n`;
}

const USAGE =
  'usage: main.js backup [--physical [--datadir=DIR]] | verify [--backup=ID] | restore ' +
  '[--backup=ID] [--to-time=T | --to-gtid=G | --datadir=DIR] | retention | list | metrics';

/** Flags as --name=value or --name value; the `booleans` ones take no value (then 'true'). */
export function parseFlags(
  args: readonly string[],
  allowed: readonly string[],
  booleans: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  const all = [...allowed, ...booleans];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m?.[1] || !all.includes(m[1]))
      throw new UserError(`unknown argument '${a}'; allowed: ${all.map((f) => `--${f}`).join(', ')}`);
    if (booleans.includes(m[1])) {
      if (m[2] !== undefined) throw new UserError(`--${m[1]} takes no value; write just --${m[1]}`);
      out[m[1]] = 'true';
      continue;
    }
    const value = m[2] ?? args[++i];
    if (value === undefined || value === '') throw new UserError(`--${m[1]} needs a value`);
    out[m[1] === 'backup-id' ? 'backup' : m[1]] = value;
  }
  return out;
}

/**
 * Point-in-time recovery plugs in here (src/dr/pitr*): given the restore flags, it returns the step that
 * applies archived binlogs after the dump is loaded. Without it, --to-time/--to-gtid are refused.
 */
export type PitrHook = (flags: Record<string, string>, env: NodeJS.ProcessEnv) => RestoreOptions['afterDump'];

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  hooks: { pitr?: PitrHook } = {},
): Promise<number> {
  const [cmd, ...rest] = argv;
  const ctx: DrContext = { env, progress: createProgress() };
  const out = (v: unknown): void => {
    process.stdout.write(`${JSON.stringify(v)}\n`);
  };
  try {
    switch (cmd) {
      case 'backup': {
        const flags = parseFlags(rest, ['datadir'], ['physical']);
        const m = await backupCommand(ctx, flags.physical === 'true', flags.datadir);
        out({
          id: m.id,
          kind: m.kind,
          bytes: m.object.bytes,
          dumpBytes: m.object.dumpBytes,
          gtid: m.position.gtid,
          durationMs: m.durationMs,
          tables: Object.keys(m.tables).length,
        });
        return 0;
      }
      case 'verify':
        out(await verifyCommand(ctx, parseFlags(rest, ['backup', 'backup-id']).backup));
        return 0;
      case 'restore': {
        const flags = parseFlags(rest, ['backup', 'backup-id', 'to-time', 'to-gtid', 'source-prefix', 'datadir']);
        const pitrWanted =
          flags['to-time'] !== undefined || flags['to-gtid'] !== undefined || flags['source-prefix'] !== undefined;
        if (pitrWanted && !hooks.pitr)
          throw new UserError(
            '--to-time/--to-gtid/--source-prefix need point-in-time ' +
              'recovery, which this entry point was started without',
          );
        // The restore Job's entry point (pitr-main.js) always replays the archive after the dump: to the target,
        // or without one as far as the archive goes (it strips --source-prefix before we see the flags).
        const afterDump = hooks.pitr?.(flags, env);
        const r = await restoreCommand(
          ctx,
          flags.backup,
          afterDump,
          flags.datadir ?? (env[RESTORE_DATADIR_ENV] || undefined),
        );
        const p = r.manifest.position;
        out(
          'kind' in r
            ? {
                id: r.manifest.id,
                kind: 'physical',
                datadir: r.datadir,
                durationMs: r.durationMs,
                gtid: p.gtid,
                binlogFile: p.binlogFile,
                binlogPos: p.binlogPos,
              }
            : { id: r.manifest.id, durationMs: r.durationMs, gtid: p.gtid },
        );
        return 0;
      }
      case 'retention':
        parseFlags(rest, []);
        out(await retentionCommand(ctx));
        return 0;
      case 'list':
        parseFlags(rest, []);
        out(
          (await listCommand(ctx)).map((e) => ({
            id: e.id,
            complete: e.manifest !== undefined,
            bytes: e.manifest?.object.bytes,
            gtid: e.manifest?.position.gtid,
            verified: e.verification ? { ok: e.verification.ok, at: e.verification.verifiedAt } : null,
          })),
        );
        return 0;
      case 'metrics':
        parseFlags(rest, []);
        process.stdout.write(renderMetrics(await listCommand(ctx)));
        return 0;
      default:
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
