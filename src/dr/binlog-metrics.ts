// Backup metrics the archiver exposes next to its own: the newest backup's success time, duration and
// size, and the newest successful verification, read from the manifests in the storage (the backup and
// verify Jobs are short-lived; the storage is the record of what they did).
import { parseManifest, parseVerification, type Manifest, type Verification } from './manifest.js';
import type { ObjectStore } from '../s3/object-store.js';
import { keyUnder } from '../s3/object-store.js';

export interface BackupSummary {
  backups: number;
  newest: Manifest | undefined;
  newestVerified: Verification | undefined;
  /** The newest verification record, passed or failed. */
  newestVerification: Verification | undefined;
}

/** Pure: the summary from manifests and verification records that were read. */
export function summariseBackups(
  manifests: readonly Manifest[],
  verifications: readonly Verification[],
): BackupSummary {
  const newest = [...manifests].sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0];
  const byTime = [...verifications].sort((a, b) => b.verifiedAt.localeCompare(a.verifiedAt));
  return { backups: manifests.length, newest, newestVerified: byTime.find((v) => v.ok), newestVerification: byTime[0] };
}

const seconds = (iso: string | undefined): number => (iso === undefined ? 0 : Math.floor(Date.parse(iso) / 1000));

/** Pure: Prometheus text for a summary. */
export function backupMetricsText(s: BackupSummary): string {
  const g = (name: string, help: string, value: number): string[] => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    `${name} ${value}`,
  ];
  return (
    [
      ...g(
        'kstack_backup_last_success_timestamp_seconds',
        'Finish time of the newest complete backup (0: none).',
        seconds(s.newest?.finishedAt),
      ),
      ...g(
        'kstack_backup_last_duration_seconds',
        'Duration of the newest complete backup.',
        (s.newest?.durationMs ?? 0) / 1000,
      ),
      ...g(
        'kstack_backup_last_size_bytes',
        'Stored (compressed, encrypted) size of the newest complete backup.',
        s.newest?.object.bytes ?? 0,
      ),
      ...g(
        'kstack_backup_verified_timestamp_seconds',
        'Time of the newest successful verification (backup_verified_timestamp; 0: none).',
        seconds(s.newestVerified?.verifiedAt),
      ),
      ...g(
        'kstack_backup_verify_failed',
        'Whether the newest verification (restore + checks) failed: 1 failed, 0 passed or none yet.',
        s.newestVerification && !s.newestVerification.ok ? 1 : 0,
      ),
      ...g('kstack_backups', 'Complete backups in the storage.', s.backups),
    ].join('\n') + '\n'
  );
}

/** Reads every manifest and verification record under <prefix>/backups/. Damaged records are skipped. */
export async function readBackupSummary(store: ObjectStore, prefix: string): Promise<BackupSummary> {
  const objects = await store.list(keyUnder(prefix, 'backups') + '/');
  const manifests: Manifest[] = [];
  const verifications: Verification[] = [];
  for (const o of objects) {
    try {
      if (o.key.endsWith('/manifest.json'))
        manifests.push(parseManifest(JSON.parse((await store.getBytes(o.key)).toString('utf8')), o.key));
      else if (o.key.endsWith('/verification.json'))
        verifications.push(parseVerification(JSON.parse((await store.getBytes(o.key)).toString('utf8')), o.key));
    } catch {
      // A damaged record does not stop the metrics; verify and list report it.
    }
  }
  return summariseBackups(manifests, verifications);
}
