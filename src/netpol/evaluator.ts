// Our own evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1) semantics: given pods, namespaces
// and policies, is a connection allowed? Pure: `kstack prove` computes the expected reachability matrix
// with it and compares that with what probes observe on the cluster. Design and the choices where the API
// leaves room: docs/decisions/0003-netpol-evaluator.md.
import type {
  V1LabelSelector,
  V1NetworkPolicy,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
} from '@kubernetes/client-node';
import { UserError } from '../util/errors.js';
import { cidrContains, cidrWithin, parseCidr, parseIp, type Cidr, type IpAddress } from './cidr.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

/** The label every namespace carries with its own name (set by the API server, immutable). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface ContainerPortInfo {
  name?: string;
  port: number;
  /** Default TCP, as in a Pod spec. */
  protocol?: Protocol;
}

export interface PodInfo {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** status.podIPs (one per family). */
  ips?: string[];
  /** Every container's ports: named ports in policies resolve against them. */
  ports?: ContainerPortInfo[];
  /** status.hostIP: traffic between a pod and its own node is always allowed. */
  hostIP?: string;
}

export interface NamespaceInfo {
  name: string;
  /** `kubernetes.io/metadata.name` is added when missing, as the API server does. */
  labels?: Record<string, string>;
}

/** One end of a connection: a pod known to the model, or an address outside the cluster's pods. */
export type Endpoint = { kind: 'pod'; namespace: string; name: string } | { kind: 'ip'; ip: string };

export const podEndpoint = (namespace: string, name: string): Endpoint => ({ kind: 'pod', namespace, name });
export const ipEndpoint = (ip: string): Endpoint => ({ kind: 'ip', ip });

/** "ns/name" for a pod, the address for an IP: how endpoints are named in messages and matrices. */
export function endpointName(e: Endpoint): string {
  return e.kind === 'pod' ? `${e.namespace}/${e.name}` : e.ip;
}

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  /** Default TCP. */
  protocol?: Protocol;
}

export interface DirectionVerdict {
  /** Some policy selects the pod for this direction; without one everything is allowed. */
  isolated: boolean;
  allowed: boolean;
  /** The policies ("ns/name") that select the pod for this direction. */
  selectedBy: string[];
  /** Those of them with a rule that allows this connection. */
  allowedBy: string[];
}

export interface Verdict {
  allowed: boolean;
  /** At the source; absent when the source is an IP (no policy of ours applies there). */
  egress?: DirectionVerdict;
  /** At the destination; absent when the destination is an IP. */
  ingress?: DirectionVerdict;
  /** Set when the connection is allowed whatever the policies say (then egress/ingress are for information). */
  exception?: string;
  /** One line saying why, e.g. "egress from x/a: allowed (not isolated); ingress to x/b: denied: ...". */
  reason: string;
}

// ---------------------------------------------------------------------------------------------------
// Compiled (validated, normalised) forms.

interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}
/** A label selector as a list of requirements that must all hold; no requirement = everything. */
interface Selector {
  requirements: Requirement[];
}

type Peer =
  /** namespaces 'policy' = the policy's own namespace (a podSelector without a namespaceSelector). */
  { kind: 'pods'; namespaces: Selector | 'policy'; pods: Selector } | { kind: 'ipBlock'; cidr: Cidr; except: Cidr[] };

type PortMatch = { protocol: Protocol; port?: number; endPort?: number } | { protocol: Protocol; name: string };

interface Rule {
  /** 'all': the rule names no peers (field absent or empty). */
  peers: Peer[] | 'all';
  ports: PortMatch[] | 'all';
}

export interface CompiledPolicy {
  namespace: string;
  name: string;
  podSelector: Selector;
  /** undefined when the policy is not of type Ingress: it then has no say on ingress at all. */
  ingress?: Rule[];
  egress?: Rule[];
}

interface Pod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ips: IpAddress[];
  ports: Required<ContainerPortInfo>[];
  hostIP?: IpAddress;
}

export interface NetworkModel {
  namespaces: ReadonlyMap<string, Record<string, string>>;
  /** By "ns/name". */
  pods: ReadonlyMap<string, Pod>;
  policies: readonly CompiledPolicy[];
}

// ---------------------------------------------------------------------------------------------------
// Validation and compilation. Errors name the object and the field path, like the API server does.

class FieldError extends UserError {}

function fail(path: string, message: string): never {
  throw new FieldError(`${path}: ${message}`);
}

/** Only what a map of labels may hold: string values. */
function labelMap(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) fail(path, 'must be a map of strings');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${path}.${k}`, `must be a string, got ${JSON.stringify(v)}`);
  }
  return value as Record<string, string>;
}

function arrayAt(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(path, 'must be a list');
  return value as unknown[];
}

const OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** Objects parsed from YAML may hold null where the typed classes say "optional": treat both as absent. */
type Loose<T> = { [K in keyof T]?: T[K] | null };
const present = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

export function compileSelector(sel: Loose<V1LabelSelector> | null | undefined, path: string): Selector {
  if (!present(sel)) return { requirements: [] };
  const requirements: Requirement[] = Object.entries(labelMap(sel.matchLabels, `${path}.matchLabels`)).map(
    ([key, value]) => ({ key, operator: 'In', values: [value] }),
  );
  arrayAt(sel.matchExpressions, `${path}.matchExpressions`).forEach((raw, i) => {
    requirements.push(compileRequirement(raw, `${path}.matchExpressions[${i}]`));
  });
  return { requirements };
}

function compileRequirement(raw: unknown, path: string): Requirement {
  const r = (raw ?? {}) as { key?: unknown; operator?: unknown; values?: unknown };
  if (typeof r.key !== 'string' || r.key === '') fail(`${path}.key`, 'must be a non-empty string');
  if (typeof r.operator !== 'string' || !OPERATORS.includes(r.operator)) {
    fail(
      `${path}.operator`,
      `unknown operator ${JSON.stringify(r.operator)} (expected one of ${OPERATORS.join(', ')})`,
    );
  }
  const operator = r.operator as Requirement['operator'];
  const values = arrayAt(r.values, `${path}.values`);
  if (values.some((v) => typeof v !== 'string')) fail(`${path}.values`, 'must be a list of strings');
  const needsValues = operator === 'In' || operator === 'NotIn';
  if (needsValues && values.length === 0) fail(`${path}.values`, `must not be empty for operator ${operator}`);
  if (!needsValues && values.length > 0) fail(`${path}.values`, `must be empty for operator ${operator}`);
  return { key: r.key, operator, values: values as string[] };
}

export function selectorMatches(sel: Selector, labels: Record<string, string>): boolean {
  return sel.requirements.every((r) => requirementHolds(r, labels));
}

function requirementHolds(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(labels[r.key] ?? '');
    // NotIn also matches pods without the label at all (apimachinery's labels.Selector semantics).
    case 'NotIn':
      return !has || !r.values.includes(labels[r.key] ?? '');
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

function compileCidr(text: unknown, path: string): Cidr {
  if (typeof text !== 'string') fail(path, 'must be a CIDR string');
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') fail(path, cidr);
  return cidr;
}

function compilePeer(raw: Loose<V1NetworkPolicyPeer> | null, path: string): Peer {
  if (!present(raw)) fail(path, 'must be an object');
  const { ipBlock, podSelector, namespaceSelector } = raw;
  if (present(ipBlock)) {
    if (present(podSelector) || present(namespaceSelector)) {
      fail(path, 'ipBlock cannot be combined with podSelector or namespaceSelector in one peer');
    }
    const cidr = compileCidr(ipBlock.cidr, `${path}.ipBlock.cidr`);
    const except = arrayAt(ipBlock.except, `${path}.ipBlock.except`).map((text, i) => {
      const p = `${path}.ipBlock.except[${i}]`;
      const e = compileCidr(text, p);
      // The API server refuses anything but a strict subset of cidr.
      if (!cidrWithin(e, cidr) || e.prefix <= cidr.prefix)
        fail(p, `"${e.text}" must be a strict subset of cidr "${cidr.text}"`);
      return e;
    });
    return { kind: 'ipBlock', cidr, except };
  }
  if (!present(podSelector) && !present(namespaceSelector)) {
    fail(path, 'a peer must set podSelector, namespaceSelector or ipBlock');
  }
  return {
    kind: 'pods',
    namespaces: !present(namespaceSelector)
      ? 'policy'
      : compileSelector(namespaceSelector, `${path}.namespaceSelector`),
    pods: compileSelector(podSelector, `${path}.podSelector`),
  };
}

/** IANA service name, what a named container port must be: ≤15 chars, lowercase, a letter, no "--". */
const PORT_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

function isPortNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function compilePort(raw: Loose<V1NetworkPolicyPort> | null, path: string): PortMatch {
  if (!present(raw)) fail(path, 'must be an object');
  const port: unknown = raw.port;
  const endPort: unknown = raw.endPort;
  const protocol = raw.protocol ?? 'TCP'; // null (an empty YAML value) defaults too, as in the API server
  if (!PROTOCOLS.includes(protocol))
    fail(`${path}.protocol`, `must be TCP, UDP or SCTP, got ${JSON.stringify(protocol)}`);
  const proto = protocol as Protocol;
  if (typeof port === 'string') {
    if (!PORT_NAME.test(port)) fail(`${path}.port`, `"${port}" is neither a port number nor a valid port name`);
    if (present(endPort)) fail(`${path}.endPort`, `cannot be used with the named port "${port}"`);
    return { protocol: proto, name: port };
  }
  if (!present(port)) {
    if (present(endPort)) fail(`${path}.endPort`, 'needs port to be set');
    return { protocol: proto };
  }
  if (!isPortNumber(port)) fail(`${path}.port`, `must be 1..65535 or a port name, got ${JSON.stringify(port)}`);
  if (!present(endPort)) return { protocol: proto, port };
  if (!isPortNumber(endPort)) fail(`${path}.endPort`, `must be 1..65535, got ${JSON.stringify(endPort)}`);
  if (endPort < port) fail(`${path}.endPort`, `must be ≥ port (${port}), got ${endPort}`);
  return { protocol: proto, port, endPort };
}

/** One ingress or egress rule. `peerField` is "from" or "to"; typed objects call "from" "_from". */
function compileRule(raw: unknown, path: string, peerField: 'from' | 'to'): Rule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'must be an object');
  const r = raw as Record<string, unknown>;
  const wrong = peerField === 'from' ? ['to'] : ['from', '_from'];
  for (const w of wrong)
    if (r[w] !== undefined)
      fail(`${path}.${w}`, `${peerField === 'from' ? 'ingress' : 'egress'} rules name their peers in "${peerField}"`);
  // client-node's typed classes call the field "_from" ("from" is reserved in TypeScript); plain objects
  // from YAML call it "from". Accept either, never both.
  if (peerField === 'from' && r.from !== undefined && r._from !== undefined) fail(path, 'has both "from" and "_from"');
  const peersRaw = peerField === 'from' ? (r._from ?? r.from) : r.to;
  const peers = arrayAt(peersRaw, `${path}.${peerField}`).map((p, i) =>
    compilePeer(p as Loose<V1NetworkPolicyPeer> | null, `${path}.${peerField}[${i}]`),
  );
  const ports = arrayAt(r.ports, `${path}.ports`).map((p, i) =>
    compilePort(p as Loose<V1NetworkPolicyPort> | null, `${path}.ports[${i}]`),
  );
  return { peers: peers.length === 0 ? 'all' : peers, ports: ports.length === 0 ? 'all' : ports };
}

/**
 * Validate one policy and turn it into the form the evaluator uses. Throws a UserError naming the policy
 * and the field ("NetworkPolicy shop/allow-web: spec.ingress[0].ports[1].endPort: ...").
 */
export function compilePolicy(np: V1NetworkPolicy): CompiledPolicy {
  const namespace = np.metadata?.namespace;
  const name = np.metadata?.name;
  const id = `NetworkPolicy ${namespace ?? '?'}/${name ?? '?'}`;
  try {
    if (typeof name !== 'string' || name === '') fail('metadata.name', 'must be set');
    if (typeof namespace !== 'string' || namespace === '') fail('metadata.namespace', 'must be set');
    const spec = np.spec ?? {};
    const ingressRaw = arrayAt(spec.ingress, 'spec.ingress');
    const egressRaw = arrayAt(spec.egress, 'spec.egress');
    const types = policyTypes(spec.policyTypes, egressRaw.length > 0);
    // Rules of a type the policy does not have are validated too (the API server does), then dropped.
    const ingress = ingressRaw.map((r, i) => compileRule(r, `spec.ingress[${i}]`, 'from'));
    const egress = egressRaw.map((r, i) => compileRule(r, `spec.egress[${i}]`, 'to'));
    return {
      namespace,
      name,
      podSelector: compileSelector(spec.podSelector, 'spec.podSelector'),
      ...(types.has('Ingress') ? { ingress } : {}),
      ...(types.has('Egress') ? { egress } : {}),
    };
  } catch (err) {
    if (err instanceof FieldError) throw new UserError(`${id}: ${err.message}`);
    throw err;
  }
}

/** spec.policyTypes, defaulted as the API server does when it is empty: Ingress, plus Egress if egress rules exist. */
function policyTypes(raw: unknown, hasEgressRules: boolean): Set<string> {
  const listed = arrayAt(raw, 'spec.policyTypes');
  if (listed.length === 0) return new Set(hasEgressRules ? ['Ingress', 'Egress'] : ['Ingress']);
  const types = new Set<string>();
  listed.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress')
      fail(`spec.policyTypes[${i}]`, `must be Ingress or Egress, got ${JSON.stringify(t)}`);
    if (types.has(t)) fail(`spec.policyTypes[${i}]`, `${t} is listed twice`);
    types.add(t);
  });
  return types;
}

// ---------------------------------------------------------------------------------------------------
// The model: namespaces, pods and policies, validated together.

export interface ModelInput {
  namespaces: readonly NamespaceInfo[];
  pods: readonly PodInfo[];
  policies: readonly V1NetworkPolicy[];
}

export function buildModel(input: ModelInput): NetworkModel {
  const namespaces = new Map<string, Record<string, string>>();
  input.namespaces.forEach((ns, i) => {
    if (typeof ns.name !== 'string' || ns.name === '') throw new UserError(`namespaces[${i}].name: must be set`);
    if (namespaces.has(ns.name)) throw new UserError(`namespaces[${i}]: namespace "${ns.name}" is listed twice`);
    namespaces.set(ns.name, {
      ...labelMap(ns.labels, `namespace ${ns.name}: labels`),
      [NAMESPACE_NAME_LABEL]: ns.name,
    });
  });
  const pods = new Map<string, Pod>();
  for (const p of input.pods) {
    const pod = compilePod(p, namespaces);
    const key = `${pod.namespace}/${pod.name}`;
    if (pods.has(key)) throw new UserError(`pod ${key} is listed twice`);
    pods.set(key, pod);
  }
  return { namespaces, pods, policies: input.policies.map(compilePolicy) };
}

function compilePod(p: PodInfo, namespaces: ReadonlyMap<string, unknown>): Pod {
  const id = `pod ${p.namespace}/${p.name}`;
  if (typeof p.name !== 'string' || p.name === '') throw new UserError(`${id}: name must be set`);
  if (!namespaces.has(p.namespace))
    throw new UserError(`${id}: namespace "${p.namespace}" is not among the namespaces given`);
  const ips = (p.ips ?? []).map((text, i) => {
    const ip = parseIp(text);
    if (ip === undefined) throw new UserError(`${id}: ips[${i}]: "${text}" is not an IP address`);
    return ip;
  });
  const ports = (p.ports ?? []).map((cp, i) => {
    if (!isPortNumber(cp.port))
      throw new UserError(`${id}: ports[${i}].port: must be 1..65535, got ${JSON.stringify(cp.port)}`);
    const protocol = cp.protocol ?? 'TCP';
    if (!PROTOCOLS.includes(protocol)) throw new UserError(`${id}: ports[${i}].protocol: must be TCP, UDP or SCTP`);
    return { name: cp.name ?? '', port: cp.port, protocol };
  });
  const hostIP = p.hostIP === undefined ? undefined : parseIp(p.hostIP);
  if (p.hostIP !== undefined && hostIP === undefined)
    throw new UserError(`${id}: hostIP: "${p.hostIP}" is not an IP address`);
  return {
    namespace: p.namespace,
    name: p.name,
    labels: labelMap(p.labels, `${id}: labels`),
    ips,
    ports,
    ...(hostIP ? { hostIP } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Evaluation.

const sameIp = (a: IpAddress | undefined, b: IpAddress): boolean =>
  a !== undefined && a.family === b.family && a.value === b.value;

/** What a rule's peer is compared with: the other end of the connection, resolved against the model. */
type Resolved = { kind: 'pod'; pod: Pod } | { kind: 'ip'; ip: IpAddress };

/** An IP endpoint that is a modelled pod's address is that pod: it is what the network sees. */
function resolve(model: NetworkModel, e: Endpoint, role: string): Resolved {
  if (e.kind === 'ip') {
    const ip = parseIp(e.ip);
    if (ip === undefined) throw new UserError(`${role}: "${e.ip}" is not an IP address`);
    const owner = [...model.pods.values()].find((p) => p.ips.some((own) => sameIp(own, ip)));
    return owner ? { kind: 'pod', pod: owner } : { kind: 'ip', ip };
  }
  const pod = model.pods.get(endpointName(e));
  if (pod === undefined) throw new UserError(`${role}: pod ${endpointName(e)} is not in the model`);
  return { kind: 'pod', pod };
}

function ipBlockMatches(peer: Extract<Peer, { kind: 'ipBlock' }>, ips: readonly IpAddress[]): boolean {
  return ips.some((ip) => cidrContains(peer.cidr, ip) && !peer.except.some((e) => cidrContains(e, ip)));
}

/** Whether one peer of a policy in `policyNs` covers `other`. ipBlocks also match pods by their IPs. */
function peerMatches(model: NetworkModel, peer: Peer, policyNs: string, other: Resolved): boolean {
  if (peer.kind === 'ipBlock') return ipBlockMatches(peer, other.kind === 'pod' ? other.pod.ips : [other.ip]);
  if (other.kind === 'ip') return false;
  const pod = other.pod;
  const nsOk =
    peer.namespaces === 'policy'
      ? pod.namespace === policyNs
      : selectorMatches(peer.namespaces, model.namespaces.get(pod.namespace) ?? {});
  return nsOk && selectorMatches(peer.pods, pod.labels);
}

/** Whether a port entry covers the connection. Named ports resolve against the destination pod's ports. */
function portMatches(pm: PortMatch, port: number, protocol: Protocol, destination: Resolved): boolean {
  if (pm.protocol !== protocol) return false;
  if ('name' in pm) {
    return (
      destination.kind === 'pod' &&
      destination.pod.ports.some((cp) => cp.name === pm.name && cp.protocol === protocol && cp.port === port)
    );
  }
  if (pm.port === undefined) return true;
  return port >= pm.port && port <= (pm.endPort ?? pm.port);
}

interface DirectionQuery {
  direction: 'ingress' | 'egress';
  /** The pod whose policies are consulted (destination for ingress, source for egress). */
  subject: Pod;
  /** The other end, matched against the rules' peers. */
  other: Resolved;
  destination: Resolved;
  port: number;
  protocol: Protocol;
}

function directionVerdict(model: NetworkModel, q: DirectionQuery): DirectionVerdict {
  const selecting = model.policies.filter(
    (p) =>
      p[q.direction] !== undefined &&
      p.namespace === q.subject.namespace &&
      selectorMatches(p.podSelector, q.subject.labels),
  );
  const allowing = selecting.filter((p) =>
    (p[q.direction] ?? []).some(
      (rule) =>
        (rule.peers === 'all' || rule.peers.some((peer) => peerMatches(model, peer, p.namespace, q.other))) &&
        (rule.ports === 'all' || rule.ports.some((pm) => portMatches(pm, q.port, q.protocol, q.destination))),
    ),
  );
  const name = (p: CompiledPolicy): string => `${p.namespace}/${p.name}`;
  return {
    isolated: selecting.length > 0,
    allowed: selecting.length === 0 || allowing.length > 0,
    selectedBy: selecting.map(name),
    allowedBy: allowing.map(name),
  };
}

/**
 * Whether the connection is allowed: egress must be allowed at the source pod AND ingress at the
 * destination pod. Each side is allowed when no policy isolates it for that direction, or when at least
 * one rule of one policy that selects it admits the peer, port and protocol (policies only add).
 */
export function evaluate(model: NetworkModel, conn: Connection): Verdict {
  const protocol = conn.protocol ?? 'TCP';
  if (!PROTOCOLS.includes(protocol))
    throw new UserError(`protocol: must be TCP, UDP or SCTP, got ${JSON.stringify(protocol)}`);
  if (!isPortNumber(conn.port)) throw new UserError(`port: must be 1..65535, got ${JSON.stringify(conn.port)}`);
  const from = resolve(model, conn.from, 'from');
  const to = resolve(model, conn.to, 'to');
  const common = { destination: to, port: conn.port, protocol };
  const egress =
    from.kind === 'pod'
      ? directionVerdict(model, { ...common, direction: 'egress', subject: from.pod, other: to })
      : undefined;
  const ingress =
    to.kind === 'pod'
      ? directionVerdict(model, { ...common, direction: 'ingress', subject: to.pod, other: from })
      : undefined;
  const exception = alwaysAllowed(from, to);
  const allowed = exception !== undefined || ((egress?.allowed ?? true) && (ingress?.allowed ?? true));
  const reason =
    exception ??
    ([
      egress && `egress from ${endpointName(conn.from)}: ${describe(egress)}`,
      ingress && `ingress to ${endpointName(conn.to)}: ${describe(ingress)}`,
    ]
      .filter((s) => s !== undefined)
      .join('; ') ||
      'no pod involved');
  return {
    allowed,
    ...(egress ? { egress } : {}),
    ...(ingress ? { ingress } : {}),
    ...(exception ? { exception } : {}),
    reason,
  };
}

/** The two exceptions the API documents: a pod cannot block itself, nor traffic with its own node. */
function alwaysAllowed(from: Resolved, to: Resolved): string | undefined {
  if (from.kind === 'pod' && to.kind === 'pod' && from.pod === to.pod)
    return 'allowed: a pod cannot block traffic to itself';
  if (from.kind === 'ip' && to.kind === 'pod' && sameIp(to.pod.hostIP, from.ip))
    return "allowed: traffic from the pod's own node is always allowed";
  if (from.kind === 'pod' && to.kind === 'ip' && sameIp(from.pod.hostIP, to.ip))
    return "allowed: traffic to the pod's own node is always allowed";
  return undefined;
}

function describe(v: DirectionVerdict): string {
  if (!v.isolated) return 'allowed (no policy selects it)';
  if (v.allowed) return `allowed by ${v.allowedBy.join(', ')}`;
  return `denied (isolated by ${v.selectedBy.join(', ')}; no rule admits this peer and port)`;
}
