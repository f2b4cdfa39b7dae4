// From API objects (as listed by the cluster probe, or rendered by the chart) to the evaluator's inputs.
// Pure: the caller lists; this only picks the fields NetworkPolicy semantics depend on.
import type { V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { UserError } from '../util/errors.js';
import type { ContainerPortInfo, NamespaceInfo, PodInfo, Protocol } from './evaluator.js';

export function namespaceInfo(ns: V1Namespace): NamespaceInfo {
  const name = ns.metadata?.name;
  if (name === undefined || name === '') throw new UserError('namespace without metadata.name');
  return { name, labels: { ...(ns.metadata?.labels ?? {}) } };
}

/**
 * Whether policies govern this pod's traffic by its pod IP: not for hostNetwork pods (they use the
 * node's address and no policy selects them), nor for pods without an IP yet or any more.
 */
export function isPolicyGoverned(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return pod.spec?.hostNetwork !== true && podIps(pod).length > 0 && phase !== 'Succeeded' && phase !== 'Failed';
}

function podIps(pod: V1Pod): string[] {
  const listed = (pod.status?.podIPs ?? []).map((p) => p.ip);
  if (listed.length > 0) return listed;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/**
 * The evaluator's view of a pod. Named ports come from the containers and from sidecars (init containers
 * with restartPolicy Always), which serve for the pod's whole life; plain init containers are gone by
 * the time traffic matters.
 */
export function podInfo(pod: V1Pod): PodInfo {
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  if (!namespace || !name) throw new UserError('pod without metadata.namespace or metadata.name');
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const ports: ContainerPortInfo[] = [...(pod.spec?.containers ?? []), ...sidecars]
    .flatMap((c) => c.ports ?? [])
    .map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.containerPort,
      protocol: (p.protocol ?? 'TCP') as Protocol,
    }));
  const hostIP = pod.status?.hostIP;
  return {
    namespace,
    name,
    labels: { ...(pod.metadata?.labels ?? {}) },
    ips: podIps(pod),
    ports,
    ...(hostIP ? { hostIP } : {}),
  };
}

interface ManifestObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
}

/**
 * The NetworkPolicies among rendered manifests (`helm template` output), in `namespace` unless they name
 * their own. Other APIs' kinds called NetworkPolicy (e.g. Calico's crd.projectcalico.org/v1) have other
 * semantics: they are returned in `ignored` ("apiVersion kind/name") rather than evaluated wrongly.
 */
export function networkPoliciesOf(
  objects: readonly ManifestObject[],
  namespace: string,
): { policies: V1NetworkPolicy[]; ignored: string[] } {
  const policies: V1NetworkPolicy[] = [];
  const ignored: string[] = [];
  for (const o of objects) {
    if (o.kind !== 'NetworkPolicy') continue;
    if (o.apiVersion !== 'networking.k8s.io/v1') {
      ignored.push(`${String(o.apiVersion)} NetworkPolicy/${String(o.metadata?.name)}`);
      continue;
    }
    const ns =
      typeof o.metadata?.namespace === 'string' && o.metadata.namespace !== '' ? o.metadata.namespace : namespace;
    const copy = structuredClone(o) as V1NetworkPolicy; // rendered manifests are plain data
    copy.metadata = { ...(copy.metadata as Record<string, unknown>), namespace: ns };
    policies.push(copy);
  }
  return { policies, ignored };
}
