// Each region's backup key in the other region's namespace, as kstack-backup-key-from-<region>: backups copied
// across regions (backup-copy.ts) are encrypted with their own region's key, and a restore from the copy in the
// other region (`kstack restore --from-region R`) must have it there before region R is lost. Each region keeps
// its own key for its own backups; nothing of the other region's release is overwritten.
import type { V1CronJob, V1Secret } from '@kubernetes/client-node';
import type { Kube, List } from '../kube/kube.js';
import { copyKeySecretName } from './backup-copy.js';

/** The Secret the release's backup Jobs read their key from (the backup CronJob's `backup-key` volume). */
async function backupKeySecret(kube: Kube, release: string): Promise<V1Secret | undefined> {
  const cronJobs = await kube.json<List<V1CronJob>>([
    'get',
    'cronjobs',
    '-l',
    `app.kubernetes.io/instance=${release},app.kubernetes.io/component=backup`,
  ]);
  const volumes = cronJobs.items.flatMap((cj) => cj.spec?.jobTemplate.spec?.template.spec?.volumes ?? []);
  const name = volumes.find((v) => v.name === 'backup-key')?.secret?.secretName;
  if (!name) return undefined; // backups off: nothing to copy
  return kube.json<V1Secret>(['get', 'secret', name]);
}

/** The copy of `region`'s key for the other region's namespace (pure). */
export function keyCopy(key: V1Secret, region: string, namespace: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: copyKeySecretName(region, 'region'),
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'kstack', 'kstack.io/backup-key-of-region': region },
    },
    data: { 'backup-key': key.data?.['backup-key'] ?? '' },
  };
}

/** Copies each region's backup key into the other's namespace (both directions: the roles can switch). */
export async function exchangeBackupKeys(
  a: { region: string; kube: Kube },
  b: { region: string; kube: Kube },
  release: string,
): Promise<void> {
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const key = await backupKeySecret(from.kube, release);
    if (!key?.data?.['backup-key']) continue;
    await to.kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify(keyCopy(key, from.region, to.kube.namespace)),
    });
  }
}
