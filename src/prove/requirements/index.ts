// The requirement rows of `kstack prove`, in the order they run and are shown (R1 … R13). Read-only
// rows run before the ones that change the release (and restore it).
import { r1Nodes } from './r1-nodes.js';
import { r2Galera } from './r2-galera.js';
import { r3Nginx } from './r3-nginx.js';
import { r4Page } from './r4-page.js';
import { r5Reachability } from './r5-reachability.js';
import { r6Backup } from './r6-backup.js';
import { r7Multinet } from './r7-multinet.js';
import { r8Placement } from './r8-placement.js';
import { r9Podwatch } from './r9-podwatch.js';
import { r10Helm } from './r10-helm.js';
import { r11NodeLoss } from './r11-node-loss.js';
import { r12Monitoring } from './r12-monitoring.js';
import { r13Security } from './r13-security.js';
import type { Requirement } from './types.js';

export const REQUIREMENTS: readonly Requirement[] = [
  r1Nodes,
  r2Galera,
  r3Nginx,
  r4Page,
  r5Reachability,
  r6Backup,
  r7Multinet,
  r8Placement,
  r9Podwatch,
  r10Helm,
  r11NodeLoss,
  r12Monitoring,
  r13Security,
];

/**
 * The order rows run in: read-only rows first, so a mutating drill (a pod deleted, a rollout) cannot
 * disturb what they observe; the report still lists rows R1 … R10.
 */
export function runOrder(rows: readonly Requirement[]): Requirement[] {
  return [...rows.filter((r) => !r.mutates), ...rows.filter((r) => r.mutates)];
}
