import { existsSync } from 'node:fs';
import { run } from '../../util/exec.js';
import { UserError } from '../../util/errors.js';
import type { ClusterNetworkPlan, NodePlan } from './plan.js';

/** Runs a command inside a node's network namespace (network only: files and mounts stay the host's). */
export function inNetns(
  netns: string,
  cmd: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; code: number }> {
  return run('nsenter', [`--net=/run/netns/${netns}`, '--', cmd, ...args]);
}

const ip = (...args: string[]): Promise<unknown> => run('ip', args);

async function linkExists(name: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', name], { allowFailure: true })).code === 0;
}

/** Deletes a link if it exists; one that disappears on its own meanwhile is fine, one that stays is an error. */
async function deleteLink(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  const res = await run('ip', ['link', 'delete', name], { allowFailure: true });
  if (res.code !== 0 && (await linkExists(name)))
    throw new Error(`could not delete network link ${name}: ${res.stderr.trim()}`);
}

/** Comment that marks every host iptables rule of a cluster, so `down` removes exactly those. */
export const ruleComment = (cluster: string): string => `kstack:${cluster}`;

/** The host-side iptables rules of a cluster (table, chain, rule args), pure so they can be checked. */
export function hostRules(
  cluster: string,
  net: ClusterNetworkPlan,
  apiPort: number,
): { table: string; chain: string; rule: string[] }[] {
  const comment = ['-m', 'comment', '--comment', ruleComment(cluster)];
  return [
    // Nodes reach the API server (which listens on loopback only) at the bridge address.
    {
      table: 'nat',
      chain: 'PREROUTING',
      rule: [
        '-i',
        net.bridge,
        '-d',
        net.gateway,
        '-p',
        'tcp',
        '--dport',
        String(apiPort),
        ...comment,
        '-j',
        'DNAT',
        '--to-destination',
        `127.0.0.1:${apiPort}`,
      ],
    },
  ];
}

/** Refuses to build a network that would collide with one the host already routes. */
export async function checkAddressesFree(net: ClusterNetworkPlan): Promise<void> {
  const routes = (await run('ip', ['-4', 'route', 'show'])).stdout;
  for (const cidr of [net.nodeSubnet]) {
    const prefix = cidr.split('/')[0]?.split('.').slice(0, 3).join('.') ?? '';
    const clash = routes.split('\n').find((r) => r.startsWith(`${prefix}.`) && !r.includes(`dev ${net.bridge}`));
    if (clash)
      throw new UserError(
        `the host already routes ${cidr.split('/')[0] ?? ''}… (${clash.trim()}); another local ` +
          `cluster may use it: run 'kstack cluster down' for that one, or pick another --name`,
      );
  }
}

/** The host bridge and the API server forward. Idempotent. */
export async function setUpHostNetwork(cluster: string, net: ClusterNetworkPlan, apiPort: number): Promise<void> {
  if (!(await linkExists(net.bridge))) {
    await ip('link', 'add', net.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${net.gateway}/${net.nodeSubnet.split('/')[1] ?? '24'}`, 'dev', net.bridge);
  }
  await ip('link', 'set', net.bridge, 'up');
  // Needed for the DNAT to 127.0.0.1, and only on our bridge.
  await run('sysctl', ['-q', '-w', `net.ipv4.conf.${net.bridge}.route_localnet=1`]);
  for (const { table, chain, rule } of hostRules(cluster, net, apiPort)) {
    const present = await run('iptables', ['-t', table, '-C', chain, ...rule], { allowFailure: true });
    if (present.code !== 0) await run('iptables', ['-t', table, '-A', chain, ...rule]);
  }
}

/** One node: its network namespace, veth onto the bridge, address, routes and kernel settings. Idempotent. */
export async function setUpNodeNetwork(net: ClusterNetworkPlan, node: NodePlan): Promise<void> {
  if (!existsSync(`/run/netns/${node.netns}`)) await ip('netns', 'add', node.netns);
  if (!(await linkExists(node.hostVeth))) {
    await ip('link', 'add', node.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns);
    await ip('link', 'set', node.hostVeth, 'master', net.bridge);
  }
  await ip('link', 'set', node.hostVeth, 'up');
  const prefix = net.nodeSubnet.split('/')[1] ?? '24';
  const inNs = (...args: string[]): Promise<unknown> => ip('-n', node.netns, ...args);
  await inNs('link', 'set', 'lo', 'up');
  await ip('-n', node.netns, 'addr', 'replace', `${node.ip}/${prefix}`, 'dev', 'eth0');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('route', 'replace', 'default', 'via', net.gateway);
  for (const other of net.nodes) {
    if (other.name !== node.name) await inNs('route', 'replace', other.podCIDR, 'via', other.ip);
  }
  for (const [key, value] of [
    ['net.ipv4.ip_forward', '1'],
    ['net.bridge.bridge-nf-call-iptables', '1'],
    ['net.ipv4.conf.all.rp_filter', '0'],
  ] as const) {
    await inNetns(node.netns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
  }
  // Pods keep their own addresses towards other pods (NetworkPolicy sees them); only traffic that
  // leaves the pod network (to the API server on the host, say) takes the node's address.
  const masq = [
    '-s',
    net.podCIDR,
    '!',
    '-d',
    net.podCIDR,
    '-m',
    'comment',
    '--comment',
    'kstack: pod traffic leaving the pod network',
    '-j',
    'MASQUERADE',
  ];
  const present = await inNetns(node.netns, 'iptables', ['-t', 'nat', '-C', 'POSTROUTING', ...masq]).catch(
    () => undefined,
  );
  if (!present) await inNetns(node.netns, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', ...masq]);
}

/** Removes everything setUp* made: namespaces (and with them the veths), the bridge, the host rules. */
export async function tearDownNetwork(cluster: string, net: ClusterNetworkPlan): Promise<void> {
  for (const node of net.nodes) {
    if (existsSync(`/run/netns/${node.netns}`)) await ip('netns', 'delete', node.netns);
    // Deleting the namespace takes its veth pair with it, asynchronously: the host end may vanish under us.
    await deleteLink(node.hostVeth);
  }
  await deleteLink(net.bridge);
  if (!existsSync('/usr/sbin/iptables')) return; // never installed: no rules of ours can exist
  for (const table of ['nat', 'filter']) {
    const rules = (await run('iptables', ['-t', table, '-S'], { allowFailure: true })).stdout.split('\n');
    for (const line of rules) {
      if (!line.startsWith('-A ') || !splitRule(line).includes(ruleComment(cluster))) continue;
      // `iptables -S` prints the rule exactly as -D accepts it.
      await run('iptables', ['-t', table, '-D', ...splitRule(line.slice(3))]);
    }
  }
}

/** Splits an `iptables -S` line into arguments, keeping quoted parts together. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2] ?? '');
  return out;
}
