import type { StatusResult } from '../cluster/control-plane.js';
import type { DnsStatus } from '../region/global-name.js';
import type { RegionPair } from '../region/pair.js';
import type { FailbackResult, FailoverResult, RegionView, UnplannedResult } from '../region/regions.js';
import type { RotateResult } from '../stack/certs.js';
import type { NodeSettings } from '../cluster/state.js';
import { DEFAULT_CLUSTER, DEFAULT_NODE_COUNT } from './defaults.js';

/** The status table as the terminal shows it. */
export function formatStatus(status: StatusResult): string {
  if (!status.exists) return `No cluster '${status.name}' here. Start one with 'kstack cluster up --control-plane'.\n`;
  const rows = status.components.map((c) => [c.name, c.pid !== undefined ? String(c.pid) : '-', c.detail]);
  const header = ['COMPONENT', 'PID', 'STATE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const nodeRows = (status.nodes ?? []).map((n) => [
    n.name,
    n.role,
    n.state === 'down'
      ? `down: ${n.missing.join(', ')} not running ('kstack cluster up' starts them)`
      : n.state === 'running'
        ? 'running'
        : `${n.state} since ${n.since ?? '?'} ('kstack cluster node start ${n.name}')`,
    Object.entries(n.restarts ?? {})
      .map(([c, k]) => `${c} ${k}×`)
      .join(', ') || '-',
  ]);
  const nodeHeader = ['NODE', 'ROLE', 'STATE', 'RESTARTED BY UP'];
  const nodeWidths = nodeHeader.map((h, i) => Math.max(h.length, ...nodeRows.map((r) => (r[i] ?? '').length)));
  const nodeLine = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(nodeWidths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    `Cluster '${status.name}': ${status.server ?? ''}`,
    `  kubeconfig: ${status.kubeconfig ?? ''}`,
    '',
    line(header),
    ...rows.map(line),
    ...(nodeRows.length ? ['', nodeLine(nodeHeader), ...nodeRows.map(nodeLine)] : []),
    '',
  ].join('\n');
}

/**
 * The command that resumes a stopped cluster as it was: a cluster with nodes with `cluster up` (and its
 * --nodes when not the default, which `up` would otherwise refuse as a different count), a control plane
 * alone with --control-plane; --name when not the default cluster.
 */
export function resumeCommand(name: string, nodeSettings: NodeSettings | undefined): string {
  const shape =
    nodeSettings === undefined
      ? ' --control-plane'
      : nodeSettings.count !== DEFAULT_NODE_COUNT
        ? ` --nodes ${nodeSettings.count}`
        : '';
  return `kstack cluster up${shape}${name === DEFAULT_CLUSTER ? '' : ` --name ${name}`}`;
}

/** What `kstack cluster stop` prints. */
export function formatStopped(name: string, result: { existed: boolean; nodeSettings?: NodeSettings }): string {
  if (!result.existed) return `No cluster '${name}' here; nothing to do.\n`;
  return `Cluster '${name}' stopped; its data is kept. Resume with '${resumeCommand(name, result.nodeSettings)}'.\n`;
}

/** What `kstack db rotate-certs` did: the old and new certificate, and what each member serves now. */
export function formatRotation(r: RotateResult): string {
  const lines = [
    `Rotated the db certificate of ${r.statefulSet} (generation ${r.rotation}) in ${r.seconds} s:`,
    `  before  serial ${r.before.serial}, valid until ${r.before.notAfter}`,
    `  after   serial ${r.after.serial}, valid until ${r.after.notAfter}`,
    ...r.members.map((m) => `  ${m.pod} serves ${m.serial}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `kstack region status`: one line per region, then what the standby's replica says. */
export function formatRegionStatus(s: {
  pair: RegionPair;
  regions: readonly RegionView[];
  dns: DnsStatus | undefined;
}): string {
  const rows = s.regions.map((r) => {
    const writes = r.readOnly === undefined ? '?' : r.readOnly ? 'refused' : 'taken';
    const replica = r.replica
      ? (r.replica.ioRunning && r.replica.sqlRunning ? 'running' : 'STOPPED') +
        (r.replica.secondsBehind !== undefined ? `, ${r.replica.secondsBehind} s behind` : '') +
        (r.replica.lastError ? `, error: ${r.replica.lastError}` : '')
      : 'none';
    const behind = r.behind === undefined ? '' : `, ${r.behind} transaction(s) behind the primary`;
    const entry = r.entryPoint ? ` page http://${r.entryPoint}/` : '';
    return r.error
      ? `  ${r.region.padEnd(10)} ${r.role.padEnd(8)} unreachable: ${r.error}`
      : `  ${r.region.padEnd(10)} ${r.role.padEnd(8)} writes ${writes.padEnd(8)} replica ${replica}${behind}${entry}`;
  });
  const dns = s.dns
    ? `  ${s.dns.name} → ${s.dns.answer ?? 'no answer'} (${s.dns.reason}; DNS server 127.0.0.1:${s.dns.port})`
    : '  global name: no DNS daemon has reported';
  const head = `Regions (epoch ${s.pair.epoch}, release ${s.pair.release} in ${s.pair.namespace}):`;
  return `${head}\n${rows.join('\n')}\n${dns}\n`;
}

/** What `kstack region failover --planned` did. */
export function formatFailover(r: FailoverResult): string {
  return (
    `Region ${r.pair.primary} is the primary now (epoch ${r.pair.epoch}); ${r.pair.standby} follows it.\n` +
    `  writes paused for ${(r.writesStoppedMs / 1000).toFixed(1)} s; the standby caught up on ${r.caughtUp} ` +
    'transaction(s) after writes stopped, so no acknowledged write was lost\n' +
    `  the global name answered ${r.pair.primary} ${(r.dnsMs / 1000).toFixed(1)} s after writes stopped\n`
  );
}

/** What `kstack region failover --unplanned` did. */
export function formatUnplanned(r: UnplannedResult): string {
  const old = r.pair.standby;
  return (
    `Region ${r.pair.primary} is the primary now (epoch ${r.pair.epoch}); ${old} is fenced.\n` +
    `  ${r.pair.primary} applied ${r.drained} transaction(s) it had received from ${old} before its promotion; ` +
    `writes it had not received are lost\n` +
    `  writes taken ${(r.promotedMs / 1000).toFixed(1)} s and the global name answered ` +
    `${(r.dnsMs / 1000).toFixed(1)} s after the command started\n` +
    (r.fencedNow
      ? `  ${old} answered and was fenced now\n`
      : `  when ${old} comes back, its members see the newer primary and take no write\n`) +
    `Next: once ${old} runs again, 'kstack region failback' makes it the standby of ${r.pair.primary}.\n`
  );
}

/** What `kstack region failback` did. */
export function formatFailback(r: FailbackResult): string {
  return (
    `Region ${r.pair.standby} is the standby of ${r.pair.primary} again (re-seeded at ${r.seededFrom}, ` +
    `${(r.ms / 1000).toFixed(1)} s).\n` +
    `Next: 'kstack region failover --planned' makes ${r.pair.standby} the primary without losing a write.\n`
  );
}
