// Node failures on demand (`kstack cluster node stop|start`): a node can be frozen, as a hung or
// partitioned machine is (every process of it stopped, its kernel state kept), or killed, as close to a
// power loss as nodes that share one kernel allow (every process of it killed at once; its network
// namespace, files and volumes stay, like a disk that survives the power cut).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { executableOf, processesMentioning } from '../../util/process.js';
import type { ClusterLayout } from '../layout.js';
import type { NodeFault, NodeState } from '../state.js';
import { cgroupHierarchies, pidsInCgroup } from './host-resources.js';
import { cgroupRootName, nodeLayout } from './node-layout.js';

export type NodeFaultMode = NodeFault['mode'];
export const NODE_FAULT_MODES: readonly NodeFaultMode[] = ['freeze', 'kill'];

/**
 * Every process of a node: its agents and containerd (from the state), the containerd shims (found by
 * their socket argument) and every container process (in the node's cgroup subtree). Only live pids are
 * returned; an agent pid that runs another program now is never included.
 */
export function nodeProcesses(layout: ClusterLayout, entry: NodeState | undefined, name: string): number[] {
  const agents = Object.values(entry?.components ?? {})
    .filter((c) => executableOf(c.pid) === c.binary)
    .map((c) => c.pid);
  const shims = processesMentioning(nodeLayout(layout, name).containerdSocket);
  return [...new Set([...agents, ...shims, ...pidsInCgroup(cgroupRootName(layout.name, name))])];
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* exited meanwhile */
    }
  }
}

/** The node's cgroup in the freezer hierarchy, when this host has one (cgroup v1). */
function freezerState(layout: ClusterLayout, name: string): string | undefined {
  const freezer = cgroupHierarchies().find((h) => h.endsWith('/freezer'));
  if (!freezer) return undefined;
  const file = join(freezer, cgroupRootName(layout.name, name), 'freezer.state');
  return existsSync(file) ? file : undefined;
}

/**
 * Freezes a node: the freezer cgroup stops its containers (so a process forked meanwhile is caught too)
 * and SIGSTOP stops its agents, containerd and shims. Freezing a cgroup is asynchronous (it reads
 * FREEZING until every task is stopped), so this returns once it reads FROZEN. Returns how many
 * processes were stopped.
 */
export async function freezeNode(layout: ClusterLayout, entry: NodeState | undefined, name: string): Promise<number> {
  const pids = nodeProcesses(layout, entry, name);
  const freezer = freezerState(layout, name);
  if (freezer) writeFileSync(freezer, 'FROZEN');
  signal(pids, 'SIGSTOP');
  for (let i = 0; freezer && i < 100 && readFileSync(freezer, 'utf8').trim() !== 'FROZEN'; i++) await sleep(50);
  if (freezer && readFileSync(freezer, 'utf8').trim() !== 'FROZEN')
    throw new Error(`the freezer cgroup of node ${name} did not reach FROZEN within 5 s (${freezer})`);
  return pids.length;
}

/** Thaws a frozen node: the reverse of freezeNode. */
export function thawNode(layout: ClusterLayout, entry: NodeState | undefined, name: string): number {
  const freezer = freezerState(layout, name);
  if (freezer) writeFileSync(freezer, 'THAWED');
  const pids = nodeProcesses(layout, entry, name);
  signal(pids, 'SIGCONT');
  return pids.length;
}

/**
 * Kills every process of a node at once with SIGKILL (no agent gets to say goodbye, as in a power loss),
 * until none is left. The agents are forgotten in the state, so the next start brings them back.
 */
export async function killNode(layout: ClusterLayout, entry: NodeState | undefined, name: string): Promise<number> {
  const freezer = freezerState(layout, name);
  let killed = 0;
  for (let round = 0; round < 20; round++) {
    const pids = nodeProcesses(layout, entry, name);
    if (pids.length === 0) break;
    killed += pids.length;
    signal(pids, 'SIGKILL');
    // A frozen process dies only once thawed.
    if (freezer) writeFileSync(freezer, 'THAWED');
    await sleep(100);
  }
  if (entry) entry.components = {};
  return killed;
}
