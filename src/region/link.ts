// The one path between two regions on this machine: their clusters' bridges forward to each other, and
// nothing else is opened. Forwarding is turned on per bridge (IPv4 decides it by the interface a packet
// came in on), never host-wide, and FORWARD accepts bridge-to-bridge traffic even on a host whose default
// policy drops. Each rule carries its source cluster's comment, so `kstack cluster down` removes it.
import { existsSync, readFileSync } from 'node:fs';
import { planClusterNetwork } from '../cluster/nodes/plan.js';
import { ruleComment } from '../cluster/nodes/network.js';
import { run } from '../util/exec.js';

export interface LinkRule {
  table: 'filter';
  chain: 'FORWARD';
  rule: string[];
}

const bridgeOf = (region: string): string => planClusterNetwork(region, { count: 3 }).bridge;

/** The FORWARD rules that let two regions' node networks reach each other, both ways. Pure. */
export function regionLinkRules(a: string, b: string): LinkRule[] {
  const [ba, bb] = [bridgeOf(a), bridgeOf(b)];
  const accept = (from: string, inIf: string, outIf: string): LinkRule => ({
    table: 'filter',
    chain: 'FORWARD',
    rule: ['-i', inIf, '-o', outIf, '-m', 'comment', '--comment', ruleComment(from), '-j', 'ACCEPT'],
  });
  return [accept(a, ba, bb), accept(b, bb, ba)];
}

/** Idempotent: forwarding on both bridges, and the two rules inserted first in FORWARD when missing. */
export async function linkRegionNetworks(a: string, b: string): Promise<void> {
  for (const bridge of [bridgeOf(a), bridgeOf(b)])
    await run('sysctl', ['-q', '-w', `net.ipv4.conf.${bridge}.forwarding=1`]);
  for (const { table, chain, rule } of regionLinkRules(a, b)) {
    const present = await run('iptables', ['-t', table, '-C', chain, ...rule], { allowFailure: true });
    if (present.code !== 0) await run('iptables', ['-t', table, '-I', chain, '1', ...rule]);
  }
}

const forwardingFile = (bridge: string): string => `/proc/sys/net/ipv4/conf/${bridge}/forwarding`;

/**
 * Whether the link can be there now and is: both bridges exist ('down' when a region's cluster is stopped,
 * which removes its bridge) and forward. Read from /proc, no process started: the pair's daemon asks every
 * second, because a region's cluster that comes back makes its bridge anew, with forwarding off.
 */
export function regionLinkState(a: string, b: string): 'up' | 'off' | 'down' {
  const files = [bridgeOf(a), bridgeOf(b)].map(forwardingFile);
  if (!files.every((f) => existsSync(f))) return 'down';
  return files.every((f) => readFileSync(f, 'utf8').trim() === '1') ? 'up' : 'off';
}
