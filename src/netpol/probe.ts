// Real reachability probes: from inside each source pod (kubectl exec), try every target at once and
// report what happened, as an ObservedMatrix (src/netpol/matrix.ts). The script is plain bash, so any
// image with bash and coreutils' `timeout` can be a source (kstack's nginx and mariadb images can):
//   TCP: connect with bash's /dev/tcp. Connected → open; refused or no answer in time → closed.
//   UDP: send one datagram with bash's /dev/udp and wait for the same line back. The target must run a
//        UDP echo server (see udpEchoServerCommand): a reply → open; no reply in time, or ICMP
//        unreachable (a REJECT rule, or nothing listening) → closed. UDP cannot tell "filtered" from
//        "no server", so a probe of a UDP target only means something where an echo server runs.
// A policy engine that REJECTs makes a blocked TCP connection look like a port without a listener:
// probes prove policy only for ports where the target really listens (tests make sure it does).
// Pure parts (script, parsing, diff table) are exported for the unit tests; runProbes is the I/O edge.
import { UserError } from '../util/errors.js';
import { parseIp } from './cidr.js';
import {
  compareMatrices,
  emptyObserved,
  formatTable,
  recordObservation,
  targetName,
  type Comparison,
  type ComparedCell,
  type ExpectedMatrix,
  type ObservedCell,
  type ObservedMatrix,
  type Target,
} from './matrix.js';
import type { V1NamespaceList, V1NetworkPolicyList, V1PodList } from '@kubernetes/client-node';
import { endpointName, podEndpoint, type Endpoint, type ModelInput, type PodInfo } from './evaluator.js';
import { isPolicyGoverned, namespaceInfo, podInfo } from './objects.js';

/** A pod (and container) probes run in; its row in the matrix is "namespace/pod". */
export interface ProbeSource {
  namespace: string;
  pod: string;
  /** Default: the pod's first container (kubectl's default). */
  container?: string;
}

/** A target with the address the probe dials. */
export interface ResolvedTarget extends Target {
  ip: string;
}

export interface ProbeOptions {
  /** Seconds a TCP connect or a UDP reply may take before the cell counts as closed. Default 2. */
  timeoutSeconds?: number;
  /** Source pods probed at the same time (each runs all its targets in parallel). Default 4. */
  concurrency?: number;
}

/** Runs kubectl with these arguments; never throws for a non-zero exit (the probe judges it). */
export type KubectlRunner = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

const MARKER = 'kstack-probe';
export const UDP_PROBE_PAYLOAD = 'kstack-probe';

/** The row name of a source. */
export const sourceName = (s: ProbeSource): string => endpointName(podEndpoint(s.namespace, s.pod));

function checkTarget(t: ResolvedTarget, i: number): void {
  if (!parseIp(t.ip)) throw new UserError(`targets[${i}].ip: '${t.ip}' is not an IP address`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)
    throw new UserError(`targets[${i}].port: ${String(t.port)} is not a port (1-65535)`);
  const proto = t.protocol ?? 'TCP';
  if (proto !== 'TCP' && proto !== 'UDP')
    throw new UserError(`targets[${i}].protocol: ${proto} cannot be probed; use TCP or UDP`);
}

/**
 * The bash script one source runs: every target in parallel, one line per target,
 * "kstack-probe <index> <open|closed> <detail>". Addresses, ports and protocols are checked first, so
 * nothing from the outside reaches the shell unchecked.
 */
export function probeScript(targets: readonly ResolvedTarget[], timeoutSeconds = 2, parallel = 10): string {
  targets.forEach(checkTarget);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30)
    throw new UserError(`timeoutSeconds: ${timeoutSeconds} must be a whole number from 1 to 30`);
  const t = timeoutSeconds;
  const lines = [
    'p() {',
    '  if [ "$2" = TCP ]; then',
    `    timeout ${t} bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$3" "$4" 2>/dev/null; rc=$?`,
    '  else',
    // The datagram goes out on a connected socket, so an ICMP "unreachable" ends the read at once.
    // bash's read takes one byte per recv(), which would cut the datagram: head reads it whole.
    `    timeout ${t} bash -c 'exec 3<>"/dev/udp/$0/$1" && printf "${UDP_PROBE_PAYLOAD}\\n" >&3 && [ ` +
      `"$(head -c ${UDP_PROBE_PAYLOAD.length} <&3)" = ${UDP_PROBE_PAYLOAD} ]' "$3" "$4" 2>/dev/null; rc=$?`,
    '  fi',
    '  case $rc in',
    `    0) echo "${MARKER} $1 open connected" ;;`,
    `    124) echo "${MARKER} $1 closed timeout" ;;`,
    `    *) echo "${MARKER} $1 closed refused-or-no-reply" ;;`,
    '  esac',
    '}',
    // At most `parallel` attempts at once: on a busy node, starting many more makes the attempts
    // themselves slow enough to time out.
    ...targets.flatMap((target, i) => [
      `p ${i} ${target.protocol ?? 'TCP'} ${target.ip} ${target.port} &`,
      ...((i + 1) % parallel === 0 && i + 1 < targets.length ? ['wait'] : []),
    ]),
    'wait',
  ];
  // `p <index> <proto> <ip> <port>`; the inner bash gets the address and port as $0 and $1.
  return `${lines.join('\n')}\n`;
}

/**
 * Reads one source's output back into cells, in target order. A target without a line (the exec
 * failed, the pod died, bash or timeout is missing) is an error cell: it proves nothing either way.
 */
export function parseProbeOutput(stdout: string, count: number, failure?: string): ObservedCell[] {
  const cells: (ObservedCell | undefined)[] = new Array<ObservedCell | undefined>(count).fill(undefined);
  for (const line of stdout.split('\n')) {
    const m = /^kstack-probe (\d+) (open|closed) (\S+)$/.exec(line.trim());
    if (!m) continue;
    const i = Number(m[1]);
    if (i < count) cells[i] = { result: m[2] as 'open' | 'closed', detail: m[3] ?? '' };
  }
  return cells.map((c) => c ?? { result: 'error', detail: failure ?? 'no result from the probe' });
}

/** Indexes of the cells that timed out: they are probed once more. */
export function timeoutRetries(cells: readonly ObservedCell[]): number[] {
  return cells.flatMap((c, i) => (c.result === 'closed' && c.detail === 'timeout' ? [i] : []));
}

/** kubectl exec arguments for one source. */
export function execArgs(source: ProbeSource, script: string): string[] {
  return [
    'exec',
    '-n',
    source.namespace,
    source.pod,
    ...(source.container ? ['-c', source.container] : []),
    '--',
    'bash',
    '-c',
    script,
  ];
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of results. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Probes every source × target on the cluster and returns what was observed. Rows are "ns/pod", columns
 * targetName(target) — the names expectedMatrix uses, so the two compare directly.
 */
export async function runProbes(
  kubectl: KubectlRunner,
  sources: readonly ProbeSource[],
  targets: readonly ResolvedTarget[],
  options: ProbeOptions = {},
): Promise<ObservedMatrix> {
  const script = probeScript(targets, options.timeoutSeconds ?? 2);
  const observed = emptyObserved();
  const columns = targets.map(targetName);
  const timeout = options.timeoutSeconds ?? 2;
  await mapLimited(sources, options.concurrency ?? 4, async (source) => {
    const res = await kubectl(execArgs(source, script));
    const failure =
      res.code === 0 ? undefined : `kubectl exec failed (${res.code}): ${res.stderr.trim().split('\n').at(-1) ?? ''}`;
    const cells = parseProbeOutput(res.stdout, targets.length, failure);
    // A policy engine that REJECTs answers at once; a timeout may be an overloaded node instead.
    // Those cells get one more try with twice the timeout; what it sees is the result. (Where the
    // engine's rejection never reaches the source, e.g. both ends default-deny, timeouts are real:
    // the retry runs in parallel like the first try so such a round stays short.)
    const again = timeoutRetries(cells);
    if (again.length > 0) {
      const retry = await kubectl(
        execArgs(
          source,
          probeScript(
            again.map((i) => targets[i] as ResolvedTarget),
            Math.min(30, timeout * 2),
          ),
        ),
      );
      parseProbeOutput(retry.stdout, again.length, 'retry after a timeout gave no result').forEach((cell, j) => {
        const i = again[j] ?? -1;
        if (cell.result !== 'error')
          cells[i] = { result: cell.result, detail: `${cell.detail ?? ''} (after a timeout)` };
      });
    }
    cells.forEach((cell, i) => {
      recordObservation(observed, sourceName(source), columns[i] ?? '', cell);
    });
  });
  return observed;
}

/** Addresses for targets: a pod target dials the pod's first IP, an IP target itself. */
export function resolveTargets(targets: readonly Target[], pods: readonly PodInfo[]): ResolvedTarget[] {
  return targets.map((t, i) => ({ ...t, ip: addressOf(t.to, pods, i) }));
}

function addressOf(to: Endpoint, pods: readonly PodInfo[], i: number): string {
  if (to.kind === 'ip') return to.ip;
  const pod = pods.find((p) => p.namespace === to.namespace && p.name === to.name);
  const ip = pod?.ips?.[0];
  if (!ip)
    throw new UserError(
      `targets[${i}]: pod ${to.namespace}/${to.name} ` +
        `${pod ? 'has no IP yet' : 'is not among the pods'}; wait until it runs`,
    );
  return ip;
}

/**
 * A UDP echo server for the target side, for images with perl (kstack's nginx image has it): answers
 * each datagram with the same bytes. Run it in the background of the target container.
 */
export function udpEchoServerCommand(port: number): string[] {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UserError(`port: ${String(port)} is not a port (1-65535)`);
  return [
    'perl',
    '-MIO::Socket::INET',
    '-e',
    `my $s = IO::Socket::INET->new(LocalPort => ${port}, Proto => "udp") or die "udp ${port}: $!"; ` +
      `while (1) { my $from = $s->recv(my $buf, 512); $s->send($buf, 0, $from) if defined $from; }`,
  ];
}

/** Compares and renders: the full table, plus one line per difference with the evaluator's reason. */
export function compareAndRender(
  expected: ExpectedMatrix,
  observed: ObservedMatrix,
): { comparison: Comparison; table: string; differences: string } {
  const comparison = compareMatrices(expected, observed);
  return { comparison, table: formatTable(comparison), differences: formatDifferences(comparison.diffs) };
}

/** A table of only the cells that differ: source, target, expected, observed, why it was expected. */
export function formatDifferences(diffs: readonly ComparedCell[]): string {
  if (diffs.length === 0) return 'no differences';
  const rows = [
    ['source', 'target', 'expected', 'observed', 'policy says', 'probe'],
    ...diffs.map((d) => [d.row, d.column, d.expected, d.observed ?? 'not probed', d.reason, d.detail ?? '']),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => Array.from(r[c] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell + ' '.repeat((widths[c] ?? 0) - Array.from(cell).length))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * What the evaluator needs, listed live from the cluster: every namespace (namespaceSelectors may pick
 * any), and the pods and NetworkPolicies of the given namespaces.
 */
export async function listModelInput(kubectl: KubectlRunner, namespaces: readonly string[]): Promise<ModelInput> {
  const get = async <T>(args: string[]): Promise<T> => {
    const res = await kubectl([...args, '-o', 'json']);
    if (res.code !== 0) throw new UserError(`kubectl ${args.join(' ')} failed: ${res.stderr.trim()}`);
    return JSON.parse(res.stdout) as T;
  };
  const nsList = await get<V1NamespaceList>(['get', 'namespaces']);
  const pods: PodInfo[] = [];
  const policies: ModelInput['policies'][number][] = [];
  for (const ns of namespaces) {
    pods.push(...(await get<V1PodList>(['-n', ns, 'get', 'pods'])).items.filter(isPolicyGoverned).map(podInfo));
    policies.push(...(await get<V1NetworkPolicyList>(['-n', ns, 'get', 'networkpolicies'])).items);
  }
  return { namespaces: nsList.items.map(namespaceInfo), pods, policies };
}
