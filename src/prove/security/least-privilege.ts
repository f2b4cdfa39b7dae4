// The least-privilege table: what each ServiceAccount of a webstack release may do through the API, and
// nothing more. R13 compares every ServiceAccount's effective rights with it; docs/security.md shows the
// same table (a unit test keeps the two equal). Pure.
import type { ApiResource, Grant } from './rbac.js';

/** Whose row: every ServiceAccount (what Kubernetes grants all authenticated users), or podwatch's. */
export type AccountRole = 'every ServiceAccount' | 'podwatch';

export interface PrivilegeRow {
  who: AccountRole;
  group: string;
  resource: string;
  verbs: string[];
  /** Empty: any object. `{podwatchLease}` is the release's lease (podwatch.leaderElection.leaseName). */
  names: string[];
  /** release namespace: granted there only; every namespace: also elsewhere (cluster-wide). */
  where: 'release namespace' | 'every namespace';
}

export const LEAST_PRIVILEGE: readonly PrivilegeRow[] = [
  // system:basic-user (bound to system:authenticated): a client may ask what it may do, and who it is.
  {
    who: 'every ServiceAccount',
    group: 'authorization.k8s.io',
    resource: 'selfsubjectaccessreviews',
    verbs: ['create'],
    names: [],
    where: 'every namespace',
  },
  {
    who: 'every ServiceAccount',
    group: 'authorization.k8s.io',
    resource: 'selfsubjectrulesreviews',
    verbs: ['create'],
    names: [],
    where: 'every namespace',
  },
  {
    who: 'every ServiceAccount',
    group: 'authentication.k8s.io',
    resource: 'selfsubjectreviews',
    verbs: ['create'],
    names: [],
    where: 'every namespace',
  },
  // podwatch (charts/webstack/templates/podwatch/rbac.yaml): reads pods, holds one Lease to lead.
  {
    who: 'podwatch',
    group: '',
    resource: 'pods',
    verbs: ['get', 'list', 'watch'],
    names: [],
    where: 'release namespace',
  },
  {
    who: 'podwatch',
    group: 'coordination.k8s.io',
    resource: 'leases',
    verbs: ['create'],
    names: [],
    where: 'release namespace',
  },
  {
    who: 'podwatch',
    group: 'coordination.k8s.io',
    resource: 'leases',
    verbs: ['get', 'update'],
    names: ['{podwatchLease}'],
    where: 'release namespace',
  },
];

export interface ExpectFor {
  /** The ServiceAccount is the one the release's podwatch pods run as. */
  podwatch: boolean;
  /** The namespace asked about is the release's own. */
  inReleaseNamespace: boolean;
  podwatchLease: string;
  /** podwatch.scope=cluster: its pod rights hold in every namespace. */
  podwatchClusterScope: boolean;
}

/** The grants one ServiceAccount should have in one namespace, over the resources the cluster serves. */
export function expectedGrants(table: readonly PrivilegeRow[], f: ExpectFor, api: readonly ApiResource[]): Grant[] {
  const served = new Set(api.map((r) => `${r.group}/${r.resource}`));
  return table
    .filter((row) => row.who === 'every ServiceAccount' || f.podwatch)
    .filter(
      (row) =>
        row.where === 'every namespace' ||
        f.inReleaseNamespace ||
        (f.podwatchClusterScope && row.who === 'podwatch' && row.resource === 'pods'),
    )
    .filter((row) => served.has(`${row.group}/${row.resource}`))
    .flatMap((row) =>
      row.verbs.map((verb) => ({
        group: row.group,
        resource: row.resource,
        verb,
        names: row.names.map((n) => n.replace('{podwatchLease}', f.podwatchLease)),
      })),
    );
}

/** The table as Markdown, as docs/security.md shows it. */
export function renderPrivilegeTable(table: readonly PrivilegeRow[]): string {
  const rows = table.map(
    (r) =>
      `| ${r.who} | ${r.group === '' ? 'core' : r.group} | ${r.resource} | ${r.verbs.join(', ')} | ${
        r.names.length ? r.names.map((n) => `\`${n}\``).join(', ') : 'any'
      } | ${r.where} |`,
  );
  return [
    '| ServiceAccount | API group | resource | verbs | objects | where |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
