// Which address a member advertises for replication. By default its name on the pod network (the headless
// Service's DNS name); when the chart attaches the db pods to a secondary network (Multus, interface
// `net1`), the address of that interface, so Galera's group traffic, IST and SST run over it. Pure: the
// caller passes os.networkInterfaces().

/** The shape of one entry of os.networkInterfaces() that matters here. */
export interface InterfaceAddress {
  address: string;
  family: string | number;
  internal: boolean;
}

const IFACE_RE = /^[A-Za-z0-9_.:-]{1,15}$/;

/** Checks an interface name from the environment; undefined/empty means "no secondary network". */
export function parseInterfaceName(value: string | undefined, what: string): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const name = value.trim();
  if (!IFACE_RE.test(name))
    throw new Error(`${what}: "${name}" is not a network interface name (1-15 letters, digits, _ . : -)`);
  return name;
}

const isV4 = (a: InterfaceAddress): boolean => a.family === 'IPv4' || a.family === 4;
const isV6 = (a: InterfaceAddress): boolean => a.family === 'IPv6' || a.family === 6;
const linkLocal6 = (a: string): boolean => /^fe[89ab]/i.test(a);

/**
 * The address of interface `name` to advertise: its first IPv4 address, else its first IPv6 address that
 * is not link-local. Throws, naming the interface and the ones that exist, when it is missing or has no
 * usable address (the pod was not attached to the network the chart asked for).
 */
export function interfaceAddress(
  interfaces: Readonly<Record<string, readonly InterfaceAddress[] | undefined>>,
  name: string,
): string {
  const addrs = interfaces[name];
  if (addrs === undefined || addrs.length === 0) {
    const have = Object.keys(interfaces).sort().join(', ') || 'none';
    throw new Error(
      `secondary interface ${name}: not in this pod (interfaces: ${have}); attach the ` +
        `pod to the network (networks.secondary.enabled) or unset GALERA_SECONDARY_INTERFACE`,
    );
  }
  const v4 = addrs.find(isV4);
  if (v4) return v4.address;
  const v6 = addrs.find((a) => isV6(a) && !linkLocal6(a.address));
  if (v6) return v6.address;
  throw new Error(
    `secondary interface ${name}: has no IPv4 or global IPv6 address ` +
      `(${addrs.map((a) => a.address).join(', ')}); check the network's IPAM`,
  );
}

/** host:port as Galera and mariadbd expect it (IPv6 literals in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The host this member advertises to its peers for replication (wsrep_node_address, IST and SST
 * receivers): the secondary interface's address when one is configured; else the pod's IP (POD_IP from
 * the downward API); else the member's configured host (loopback tests). An IP, not the headless
 * Service's DNS name, because right after pods are replaced that name may not resolve yet or may still
 * resolve to the deleted pod (DNS caches), and Galera resolves it exactly then: a donor that cannot
 * reach the joiner's IST/SST address makes the joiner abort.
 */
export function advertisedHost(opts: {
  secondaryInterface: string | undefined;
  podIp: string | undefined;
  memberHost: string;
  interfaces: Readonly<Record<string, readonly InterfaceAddress[] | undefined>>;
}): string {
  if (opts.secondaryInterface !== undefined) return interfaceAddress(opts.interfaces, opts.secondaryInterface);
  const ip = opts.podIp?.trim();
  if (ip) return ip;
  return opts.memberHost;
}

/**
 * wsrep_cluster_address for a start: every member at the address it reported itself (fresh, from this
 * decision round), the configured host for members that did not report one (not up yet, or an older agent).
 *
 * On a secondary network (`onlyReported`) a member that did not report is left out instead: its configured
 * host is the headless Service's DNS name, which resolves to the pod IP on eth0, so Galera would open its
 * group connection to that peer over the pod network and keep it there (seen on the local cluster: a
 * bootstrapper started with DNS names for its silent peers). Peers that start later connect to us at our
 * net1 address, and Galera shares the member list over the connections it has.
 */
export function clusterAddress(
  members: readonly { name: string; host: string; galeraPort: number }[],
  reported: ReadonlyMap<string, string | undefined>,
  opts: { onlyReported?: boolean } = {},
): string {
  const hosts = members.flatMap((m) => {
    const host = reported.get(m.name) ?? (opts.onlyReported ? undefined : m.host);
    return host === undefined ? [] : [hostPort(host, m.galeraPort)];
  });
  return 'gcomm://' + hosts.join(',');
}
