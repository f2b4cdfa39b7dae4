// What the release asks for, read from its values (`helm get values --all`): which components are on, how
// many replicas each wants, the placement preset and the recovery objectives. Rows judge the cluster
// against this intent, not against what the API already guarantees: a component the values turn on with
// zero pods is a failure, and only a component the values turn off may skip its row.
import { parseDuration } from '../../util/duration.js';
import { UserError } from '../../util/errors.js';
import { releaseValues, type CommandLog, type Kube } from '../../kube/kube.js';

export type PlacementPreset = 'soft' | 'hard' | 'ha' | 'none';

export interface ReleaseIntent {
  web: { replicas: number; autoscaled: boolean };
  db: { enabled: boolean; galera: boolean; replicas: number; appDatabase: string };
  podwatch: { enabled: boolean; replicas: number; clusterScope: boolean };
  backup: { enabled: boolean; verify: boolean; objectives: { rtoSeconds: number; rpoSeconds: number } };
  networkPolicy: { enabled: boolean };
  secondaryNetwork: { enabled: boolean };
  placement: { preset: PlacementPreset; webNodeLabel: string; dbNodeLabel: string };
  /** monitoring.interval, monitoring.rules.for and the backup-age threshold, in seconds. */
  monitoring: { intervalSeconds: number; forSeconds: number; backupMaxAgeSeconds: number };
  /** db.tls.enabled (default true): the db's client and replication traffic encrypted. */
  dbTls: boolean;
}

/** The chart's defaults for the objectives (values.yaml backup.objectives). */
export const DEFAULT_OBJECTIVES = { rtoSeconds: 600, rpoSeconds: 60 } as const;

type Tree = Record<string, unknown>;
const obj = (v: unknown): Tree => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Tree) : {});
const at = (root: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => obj(o)[k], root);

function bool(root: unknown, path: string, dflt: boolean): boolean {
  const v = at(root, path);
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean')
    throw new UserError(`release values: ${path} is ${JSON.stringify(v)}, expected true or false`);
  return v;
}

function count(root: unknown, path: string, dflt: number): number {
  const v = at(root, path);
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new UserError(`release values: ${path} is ${JSON.stringify(v)}, expected a whole number ≥ 0`);
  return v;
}

function text(root: unknown, path: string, dflt: string): string {
  const v = at(root, path);
  return typeof v === 'string' && v !== '' ? v : dflt;
}

/** Pure: the intent from a release's computed values (missing keys take the chart's defaults). */
export function intentOf(values: unknown): ReleaseIntent {
  const preset = text(values, 'placement.preset', 'soft');
  if (preset !== 'soft' && preset !== 'hard' && preset !== 'ha' && preset !== 'none')
    throw new UserError(`release values: placement.preset is '${preset}', expected soft, hard, ha or none`);
  const dbEnabled = bool(values, 'db.enabled', true);
  const backupEnabled = bool(values, 'backup.enabled', false) && dbEnabled;
  return {
    web: { replicas: count(values, 'web.replicaCount', 3), autoscaled: bool(values, 'web.autoscaling.enabled', false) },
    db: {
      enabled: dbEnabled,
      galera: text(values, 'db.mode', 'galera') === 'galera',
      replicas: count(values, 'db.replicaCount', 3),
      appDatabase: text(values, 'db.auth.database', 'app'),
    },
    podwatch: {
      enabled: bool(values, 'podwatch.enabled', true),
      replicas: count(values, 'podwatch.replicaCount', 2),
      clusterScope: text(values, 'podwatch.scope', 'namespace') === 'cluster',
    },
    backup: {
      enabled: backupEnabled,
      verify: backupEnabled && bool(values, 'backup.verify.enabled', true),
      objectives: {
        rtoSeconds: count(values, 'backup.objectives.rtoSeconds', DEFAULT_OBJECTIVES.rtoSeconds),
        rpoSeconds: count(values, 'backup.objectives.rpoSeconds', DEFAULT_OBJECTIVES.rpoSeconds),
      },
    },
    networkPolicy: { enabled: bool(values, 'networkPolicy.enabled', true) },
    secondaryNetwork: { enabled: bool(values, 'networks.secondary.enabled', false) },
    placement: {
      preset,
      webNodeLabel: text(values, 'placement.webNodeLabel', 'node-role.kstack.io/web'),
      dbNodeLabel: text(values, 'placement.dbNodeLabel', 'node-role.kstack.io/db'),
    },
    monitoring: {
      intervalSeconds:
        parseDuration(text(values, 'monitoring.interval', '30s'), 'release values: monitoring.interval') / 1000,
      forSeconds:
        parseDuration(text(values, 'monitoring.rules.for', '5m'), 'release values: monitoring.rules.for') / 1000,
      backupMaxAgeSeconds: count(values, 'monitoring.rules.backupMaxAgeSeconds', 93600),
    },
    dbTls: bool(values, 'db.tls.enabled', true),
  };
}

/**
 * The release's intent from `helm get values --all`. A release helm does not know is an error: without its
 * values there is nothing to judge the cluster against.
 */
export async function readIntent(kube: Kube, release: string, ev?: CommandLog): Promise<ReleaseIntent> {
  return intentOf(await releaseValues(kube, release, ev));
}
