import type { StatusResult } from '../cluster/control-plane.js';

/** The status table as the terminal shows it. */
export function formatStatus(status: StatusResult): string {
  if (!status.exists) return `No cluster '${status.name}' here. Start one with 'kstack cluster up --control-plane'.\n`;
  const rows = status.components.map((c) => [c.name, c.pid !== undefined ? String(c.pid) : '-', c.detail]);
  const header = ['COMPONENT', 'PID', 'STATE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [
    `Cluster '${status.name}': ${status.server ?? ''}`,
    `  kubeconfig: ${status.kubeconfig ?? ''}`,
    '',
    line(header),
    ...rows.map(line),
    '',
  ].join('\n');
}
