// R7: the db pods have a second interface (net1) in the secondary network's subnet, and Galera's
// replication runs over it: each member's wsrep_node_address is its net1 address, the cluster's
// wsrep_incoming_addresses are in that subnet, and — the traffic, not only the configuration — every
// established TCP connection on the Galera port in each member (its kernel's /proc/net/tcp{,6}) runs
// between its net1 address and another member's net1 address. Skipped when the cluster has no Multus.
import type { V1Pod } from '@kubernetes/client-node';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../../netpol/cidr.js';
import { establishedOnPort, parseProcNetTcp, type TcpConnection } from '../../netpol/proc-net.js';
import { DB_CONTAINER, dbPortsOf, dbSql, isPodReady, podName, podsOf, wsrepStatus } from './stack.js';
import { fail, skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export const NAD_CRD = 'network-attachment-definitions.k8s.cni.cncf.io';
const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const STATUS = 'k8s.v1.cni.cncf.io/network-status';

export interface NetStatus {
  name?: string;
  interface?: string;
  ips?: string[];
}

export function parseNetworkStatus(pod: V1Pod): NetStatus[] {
  const text = pod.metadata?.annotations?.[STATUS];
  if (!text) return [];
  try {
    return JSON.parse(text) as NetStatus[];
  } catch {
    return [];
  }
}

/** The network attachment names a pod asks for: "a,b" or JSON [{name, namespace}]. */
export function requestedNetworks(pod: V1Pod): { name: string; namespace?: string }[] {
  const v = pod.metadata?.annotations?.[NETWORKS]?.trim();
  if (!v) return [];
  if (v.startsWith('[')) {
    try {
      return (JSON.parse(v) as { name: string; namespace?: string }[]).map((n) => ({
        name: n.name,
        ...(n.namespace ? { namespace: n.namespace } : {}),
      }));
    } catch {
      return [];
    }
  }
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [a, b] = s.split('/');
      return b ? { namespace: a ?? '', name: b.split('@')[0] ?? '' } : { name: a?.split('@')[0] ?? '' };
    });
}

/** The subnet of a NetworkAttachmentDefinition's CNI config (whereabouts range, host-local subnet/ranges). */
export function subnetOfConfig(config: string): string | undefined {
  try {
    const c = JSON.parse(config) as {
      ipam?: { range?: string; subnet?: string; ranges?: { subnet?: string }[][] };
      plugins?: { ipam?: unknown }[];
    };
    const ipam = c.ipam ?? (c.plugins?.find((p) => p.ipam)?.ipam as typeof c.ipam);
    return ipam?.range ?? ipam?.subnet ?? ipam?.ranges?.[0]?.[0]?.subnet;
  } catch {
    return undefined;
  }
}

const hostOf = (addr: string): string => {
  const a = addr.trim();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']'));
  return a.split(':').length === 2 ? (a.split(':')[0] ?? '') : a;
};

const inSubnet = (ip: string, subnet: Cidr): boolean => {
  const parsed = parseIp(hostOf(ip));
  return parsed !== undefined && cidrContains(subnet, parsed);
};

export interface MemberNet {
  pod: string;
  net1: string[];
  nodeAddress: string;
  incoming: string;
  /** Established connections on the Galera port inside the member; undefined when they could not be read. */
  galera?: TcpConnection[] | undefined;
  /** Where the member receives incremental (ist.recv_addr) and snapshot (wsrep_sst_receive_address) transfers. */
  istAddress?: string;
  sstAddress?: string;
}

/** Pure: ist.recv_addr from wsrep_provider_options ("…; ist.recv_addr = 10.78.0.5:4568; …"), without a scheme. */
export function istRecvAddress(providerOptions: string): string | undefined {
  const m = /(?:^|;)\s*ist\.recv_addr\s*=\s*([^;]*)/.exec(providerOptions);
  const v = m?.[1]?.trim().replace(/^tcp:\/\//, '');
  return v ? v : undefined;
}

const DEFAULT_GALERA_PORT = 4567;

/** The Galera port of a db pod: its mariadb container's port named "galera" (the chart's db.ports.galera). */
export function galeraPortOf(pod: V1Pod): number {
  return dbPortsOf(pod).galera ?? DEFAULT_GALERA_PORT;
}

export function judgeMultinet(members: readonly MemberNet[], subnet: Cidr, subnetText: string): string[] {
  const problems: string[] = [];
  // Which member owns each net1 address, to name the peer of a connection.
  const owner = new Map(members.flatMap((m) => m.net1.map((ip) => [ip, m.pod] as const)));
  for (const m of members) {
    const inNet = m.net1.filter((ip) => inSubnet(ip, subnet));
    if (m.net1.length === 0) problems.push(`${m.pod} has no net1 interface (no secondary network attached)`);
    else if (inNet.length === 0) problems.push(`${m.pod}'s net1 (${m.net1.join(', ')}) is not in ${subnetText}`);
    if (!inSubnet(m.nodeAddress, subnet))
      problems.push(
        `${m.pod}'s Galera replication address wsrep_node_address=` +
          `${m.nodeAddress || '(unset)'} is not in ${subnetText}`,
      );
    const outside = m.incoming.split(',').filter((a) => a.trim() && !inSubnet(a, subnet));
    if (outside.length)
      problems.push(`${m.pod} sees wsrep_incoming_addresses outside ${subnetText}: ${outside.join(', ')}`);
    // IST and SST run only while a member catches up, so their addresses are checked, not their traffic.
    for (const [what, addr] of [
      ['incremental state transfer (ist.recv_addr)', m.istAddress],
      ['snapshot state transfer (wsrep_sst_receive_address)', m.sstAddress],
    ] as const) {
      if (!addr || addr === 'AUTO')
        problems.push(`${m.pod} receives ${what} at ${addr || '(unset)'}, not at its net1 address`);
      else if (!m.net1.includes(hostOf(addr)))
        problems.push(`${m.pod} receives ${what} at ${addr}, not at its net1 address ${m.net1.join(',') || '(none)'}`);
    }
    if (m.galera === undefined) {
      problems.push(`${m.pod}: its TCP connections could not be read, so Galera traffic over net1 is not shown`);
      continue;
    }
    if (members.length > 1 && m.galera.length === 0)
      problems.push(`${m.pod} has no established Galera connection to any peer`);
    for (const c of m.galera) {
      const link = `${c.local.ip}:${c.local.port} ↔ ${c.remote.ip}:${c.remote.port}`;
      if (!inSubnet(c.local.ip, subnet) || !inSubnet(c.remote.ip, subnet)) {
        problems.push(`${m.pod} talks Galera outside ${subnetText} (not over net1): ${link}`);
      } else if (
        !m.net1.includes(c.local.ip) ||
        owner.get(c.remote.ip) === undefined ||
        owner.get(c.remote.ip) === m.pod
      ) {
        problems.push(
          `${m.pod} has a Galera connection ${link} that is not between its net1 address and another member's`,
        );
      }
    }
  }
  return problems;
}

export const r7Multinet: Requirement = {
  id: 'R7',
  title: 'Galera over a secondary network',
  checks:
    "Each db pod's Multus network-status shows a net1 interface with an address in the subnet of its " +
    "NetworkAttachmentDefinition; each Galera member's wsrep_node_address and the wsrep_incoming_addresses " +
    'are in that subnet; and every established TCP connection on the Galera port inside each member (read ' +
    "from the kernel's /proc/net/tcp and tcp6) joins its net1 address to another member's net1 address, " +
    'at least one per member. Each member receives incremental and snapshot state transfers (ist.recv_addr, ' +
    'wsrep_sst_receive_address) at its net1 address. Fails when the cluster has no Multus; skipped ' +
    "only when the release's values turn the secondary network off (networks.secondary.enabled false).",
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.db.enabled) return skipped(`the release's values turn the db off (db.enabled is false)`);
    if (!ctx.intent.secondaryNetwork.enabled)
      return skipped(
        `the release's values do not attach the db to a secondary network (networks.secondary.enabled is false)`,
      );
    const crd = await ctx.kube.kubectl(['get', 'crd', NAD_CRD, '-o', 'name'], {
      ev,
      clusterScope: true,
      allowFailure: true,
    });
    if (crd.code !== 0)
      return fail(`networks.secondary.enabled is true but the cluster has no Multus (CRD ${NAD_CRD} not installed)`);
    const pods = await podsOf(ctx.kube, ctx.release, 'db', ev);
    if (pods.length === 0) return fail(`db.enabled is true but release '${ctx.release}' has no db pods`);
    const wanted = requestedNetworks(pods[0] as V1Pod);
    ev.add(
      `  ${pods.map((p) => `${podName(p)}: networks=${p.metadata?.annotations?.[NETWORKS] ?? '(none)'}`).join('; ')}`,
    );
    if (wanted.length === 0) return fail(`the db pods ask for no secondary network (no ${NETWORKS} annotation)`);
    const nadRef = wanted[0] as { name: string; namespace?: string };
    const nad = await ctx.kube.json<{ spec?: { config?: string } }>(
      ['get', 'network-attachment-definitions.k8s.cni.cncf.io', nadRef.name, '-n', nadRef.namespace ?? ctx.namespace],
      { ev, clusterScope: true },
    );
    const subnetText = subnetOfConfig(nad.spec?.config ?? '');
    const subnet = subnetText ? parseCidr(subnetText) : undefined;
    if (!subnetText || !subnet || typeof subnet === 'string')
      return fail(`NetworkAttachmentDefinition ${nadRef.name} has no subnet in its IPAM config`);
    ev.add(`  NetworkAttachmentDefinition ${nadRef.name}: subnet ${subnetText}`);
    const members: MemberNet[] = [];
    for (const p of pods) {
      const net1 = parseNetworkStatus(p)
        .filter((s) => s.interface === 'net1')
        .flatMap((s) => s.ips ?? []);
      let nodeAddress = '';
      let incoming = '';
      let sstAddress = '';
      let istAddress = '';
      let galera: TcpConnection[] | undefined;
      const port = galeraPortOf(p);
      if (isPodReady(p)) {
        const vars =
          (
            await dbSql(
              ctx.kube,
              podName(p),
              'SELECT @@wsrep_node_address, @@wsrep_sst_receive_address, @@wsrep_provider_options',
              ev,
            ).catch(() => [])
          )[0] ?? [];
        nodeAddress = vars[0] ?? '';
        sstAddress = vars[1] ?? '';
        istAddress = istRecvAddress(vars[2] ?? '') ?? '';
        incoming =
          (await wsrepStatus(ctx.kube, podName(p)).catch((): Record<string, string> => ({})))
            .wsrep_incoming_addresses ?? '';
        const tcp = await ctx.kube.exec(podName(p), DB_CONTAINER, ['cat', '/proc/net/tcp', '/proc/net/tcp6'], { ev });
        if (tcp.code === 0 || tcp.stdout.includes('local_address'))
          galera = establishedOnPort(parseProcNetTcp(tcp.stdout), port);
      }
      const links =
        galera?.map((c) => `${c.local.ip}:${c.local.port}↔${c.remote.ip}:${c.remote.port}`).join(' ') ?? '(not read)';
      ev.add(
        `  ${podName(p)}: net1=${net1.join(',') || '(none)'} wsrep_node_address=` +
          `${nodeAddress || '(unset)'} wsrep_incoming_addresses=${incoming || '-'}`,
      );
      ev.add(`    established on Galera port ${port}: ${links || '(none)'}`);
      ev.add(`    IST received at ${istAddress || '(unset)'}, SST at ${sstAddress || '(unset)'}`);
      members.push({ pod: podName(p), net1, nodeAddress, incoming, galera, istAddress, sstAddress });
      if (galera) ev.measure(`${podName(p)}.galeraConnections`, galera.length);
    }
    ev.measure('members', members.length);
    return verdictOf(
      judgeMultinet(members, subnet, subnetText),
      `all ${members.length} db members have net1 in ${subnetText}; ` +
        `every Galera connection runs between their net1 addresses`,
    );
  },
};
