// Entry point of the restore Job: src/dr/main.js restore with point-in-time recovery plugged in.
//   node dist/src/dr/pitr-main.js restore [--backup-id=ID] [--to-time=T | --to-gtid=G] [--source-prefix=P]
// --source-prefix reads the backup and the binlog archive from another release's prefix (a restore into a
// new namespace). Without --backup-id and with a target, the newest backup that started before the
// target is the base.
import { pathToFileURL } from 'node:url';
import { readAllIndexes } from './binlog-archiver.js';
import { formatGtid, parseGtid, parseGtidPosition } from './binlog.js';
import { keySealer, s3ArchiveStore } from './binlog-store.js';
import { listCatalog } from './catalog.js';
import { loadKey, main, parseFlags, type PitrHook } from './main.js';
import { chooseBackup, parseTargetTime, planFromStreams, type PitrTarget } from './pitr.js';
import { replayPitr } from './pitr-apply.js';
import { ObjectStore, parseStorageConfig } from '../s3/object-store.js';
import { UserError } from '../util/errors.js';

export function targetOf(flags: Record<string, string>): PitrTarget {
  try {
    if (flags['to-time'] !== undefined) return { kind: 'time', time: parseTargetTime(flags['to-time']) };
    if (flags['to-gtid'] !== undefined) return { kind: 'gtid', gtid: parseGtid(flags['to-gtid'], '--to-gtid') };
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  return { kind: 'latest' };
}

/** The PITR step run after the dump is loaded: plan from the archived streams, fetch, decrypt, replay. */
export const pitrHook: PitrHook =
  (flags, env) =>
  async ({ manifest, target, progress }) => {
    const storage = parseStorageConfig(env);
    const store = new ObjectStore(storage);
    try {
      const archive = s3ArchiveStore(store);
      const indexes = await readAllIndexes(archive, storage.prefix);
      let plan;
      try {
        plan = planFromStreams(
          indexes,
          parseGtidPosition(manifest.position.gtid),
          targetOf(flags),
          Math.floor(Date.parse(manifest.startedAt) / 1000),
        );
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const reach = plan.endOfArchive
        ? `to the end of the archive (${
            plan.reachedTime === undefined
              ? 'nothing after the backup'
              : new Date(plan.reachedTime * 1000).toISOString()
          })`
        : flags['to-gtid'] !== undefined
          ? `to GTID ${formatGtid(parseGtid(flags['to-gtid']))}`
          : `to ${flags['to-time'] ?? ''}`;
      await progress.step(
        `replay ${plan.files.length} archived binlog(s) of ${plan.stream || 'no stream'} ${reach}`,
        (step) =>
          replayPitr({
            plan,
            store: archive,
            sealer: keySealer(loadKey(env)),
            target: {
              ...(target.socket ? { socket: target.socket } : { host: target.host, port: target.port }),
              user: target.user,
              password: target.password,
              ...(target.tlsCa ? { tlsCa: target.tlsCa } : {}),
            },
            onFile: (name, done, total) => {
              step.detail(`${name} (${done}/${total})`);
            },
          }),
      );
    } finally {
      store.destroy();
    }
  };

/** Restore flags with the base backup chosen for the target when none was given. */
export async function withBaseBackup(argv: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const [cmd, ...rest] = argv;
  if (cmd !== 'restore') return argv;
  const flags = parseFlags(rest, ['backup', 'backup-id', 'to-time', 'to-gtid', 'source-prefix']);
  if (flags.backup !== undefined || (flags['to-time'] === undefined && flags['to-gtid'] === undefined)) return argv;
  const store = new ObjectStore(parseStorageConfig(env));
  try {
    // Binlogs are replayed into a running server after a logical backup; a physical one cannot be the base here.
    const complete = (await listCatalog(store)).flatMap((e) => (e.manifest?.kind === 'logical' ? [e.manifest] : []));
    const base = chooseBackup(
      complete.map((m) => ({
        id: m.id,
        gtidPosition: m.position.gtid,
        finishedAt: Math.floor(Date.parse(m.startedAt) / 1000),
      })),
      targetOf(flags),
    );
    return [...argv, `--backup=${base.id}`];
  } catch (err) {
    throw err instanceof UserError ? err : new UserError((err as Error).message);
  } finally {
    store.destroy();
  }
}

export async function pitrMain(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  // --source-prefix: the whole restore (backup and binlogs) reads from that prefix.
  let args: string[] = [];
  let runEnv = env;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k] ?? '';
    if (a === '--source-prefix' || a.startsWith('--source-prefix=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++k];
      runEnv = { ...env, KSTACK_DR_S3_PREFIX: value ?? '' };
    } else {
      args.push(a);
    }
  }
  try {
    args = await withBaseBackup(args, runEnv);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
  return main(args, runEnv, { pitr: pitrHook });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  pitrMain(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
