// The local-path provisioner: turns a PVC of the kstack-local-path class, once its pod is scheduled,
// into a `local` PersistentVolume in a folder of the node the pod landed on; removes the folder when a
// released volume is deleted. Decisions are pure functions; `reconcileOnce` is the thin I/O edge.
import { mkdirSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { LOCAL_PATH_CLASS, LOCAL_PATH_PROVISIONER } from './manifests.js';

const SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

export const volumeName = (pvc: k8s.V1PersistentVolumeClaim): string => `pvc-${pvc.metadata?.uid ?? ''}`;

/** Which claims need a volume now: ours, pending, scheduled to a node, and without a volume yet. */
export function claimsToProvision(
  pvcs: readonly k8s.V1PersistentVolumeClaim[],
  pvs: readonly k8s.V1PersistentVolume[],
): k8s.V1PersistentVolumeClaim[] {
  const existing = new Set(pvs.map((pv) => pv.metadata?.name));
  return pvcs.filter(
    (pvc) =>
      pvc.spec?.storageClassName === LOCAL_PATH_CLASS &&
      pvc.status?.phase === 'Pending' &&
      !pvc.spec.volumeName &&
      pvc.metadata?.annotations?.[SELECTED_NODE] !== undefined &&
      pvc.metadata.deletionTimestamp === undefined &&
      !existing.has(volumeName(pvc)),
  );
}

/** The PersistentVolume for a claim on a node (pure). */
export function volumeFor(pvc: k8s.V1PersistentVolumeClaim, volumesRoot: string): k8s.V1PersistentVolume {
  const node = pvc.metadata?.annotations?.[SELECTED_NODE] ?? '';
  const name = volumeName(pvc);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [PROVISIONED_BY]: LOCAL_PATH_PROVISIONER }, labels: { 'kstack.io/node': node } },
    spec: {
      capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
      accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: LOCAL_PATH_CLASS,
      volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: pvc.metadata?.namespace ?? '',
        name: pvc.metadata?.name ?? '',
        uid: pvc.metadata?.uid ?? '',
      },
      local: { path: join(volumesRoot, node, name) },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
          ],
        },
      },
    },
  };
}

/** Volumes of ours whose claim is gone (Released, reclaim policy Delete): their data is to be removed. */
export function volumesToDelete(pvs: readonly k8s.V1PersistentVolume[]): k8s.V1PersistentVolume[] {
  return pvs.filter(
    (pv) =>
      pv.metadata?.annotations?.[PROVISIONED_BY] === LOCAL_PATH_PROVISIONER &&
      pv.spec?.persistentVolumeReclaimPolicy === 'Delete' &&
      (pv.status?.phase === 'Released' || pv.status?.phase === 'Failed'),
  );
}

export interface ProvisionerApi {
  core: k8s.CoreV1Api;
  volumesRoot: string;
  log: (line: string) => void;
}

/** One pass: create the volumes claims need, delete the released ones with their folders. */
export async function reconcileOnce({ core, volumesRoot, log }: ProvisionerApi): Promise<void> {
  const [pvcs, pvs] = await Promise.all([
    core.listPersistentVolumeClaimForAllNamespaces(),
    core.listPersistentVolume(),
  ]);
  for (const pvc of claimsToProvision(pvcs.items, pvs.items)) {
    const pv = volumeFor(pvc, volumesRoot);
    const path = pv.spec?.local?.path ?? '';
    mkdirSync(path, { recursive: true });
    // Pods run as arbitrary non-root users; the folder is only reachable through the node's kubelet.
    chmodSync(path, 0o777);
    await core.createPersistentVolume({ body: pv });
    log(
      `provisioned ${pv.metadata?.name ?? ''} for ${pvc.metadata?.namespace ?? ''}/` +
        `${pvc.metadata?.name ?? ''} on ${pv.metadata?.labels?.['kstack.io/node'] ?? ''} at ${path}`,
    );
  }
  for (const pv of volumesToDelete(pvs.items)) {
    const path = pv.spec?.local?.path;
    if (path?.startsWith(`${volumesRoot}/`)) rmSync(path, { recursive: true, force: true });
    await core.deletePersistentVolume({ name: pv.metadata?.name ?? '' });
    log(`deleted ${pv.metadata?.name ?? ''} and its data`);
  }
}
