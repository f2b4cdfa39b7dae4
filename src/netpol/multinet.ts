// MultiNetworkPolicy (k8s.cni.cncf.io/v1beta1) semantics for one secondary network, by reduction to the
// NetworkPolicy evaluator: a MultiNetworkPolicy is a NetworkPolicy spec plus the annotation
// k8s.v1.cni.cncf.io/policy-for naming the NetworkAttachmentDefinitions it governs. On a network, only the
// policies for it count, only pods attached to it take part, and they are known by their addresses on it
// (from the k8s.v1.cni.cncf.io/network-status annotation), not by their pod IPs. Pure.
import type { V1NetworkPolicy, V1NetworkPolicySpec, V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { UserError } from '../util/errors.js';
import { buildModel, type NamespaceInfo, type NetworkModel, type PodInfo } from './evaluator.js';
import { podInfo } from './objects.js';

export const POLICY_FOR_ANNOTATION = 'k8s.v1.cni.cncf.io/policy-for';
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';

/** A MultiNetworkPolicy object as listed from the API (the CRD has no typed class in the client library). */
export interface MultiNetworkPolicy {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: V1NetworkPolicySpec;
}

/**
 * The networks ("namespace/name") a policy is for. A bare name means a NAD in the policy's namespace, as
 * in the upstream controller. Throws a UserError naming the policy when the annotation is missing or bad.
 */
export function policyNetworks(mnp: MultiNetworkPolicy): string[] {
  const ns = mnp.metadata?.namespace;
  const id = `MultiNetworkPolicy ${ns ?? '?'}/${mnp.metadata?.name ?? '?'}`;
  if (!ns) throw new UserError(`${id}: metadata.namespace must be set`);
  const raw = mnp.metadata?.annotations?.[POLICY_FOR_ANNOTATION];
  if (raw === undefined || raw.trim() === '')
    throw new UserError(
      `${id}: annotation ${POLICY_FOR_ANNOTATION} is required (the ` +
        `NetworkAttachmentDefinitions it governs, comma-separated)`,
    );
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s, i) => {
      const parts = s.split('/');
      if (parts.length > 2 || parts.some((p) => !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(p))) {
        throw new UserError(
          `${id}: annotation ${POLICY_FOR_ANNOTATION}[${i}]: "${s}" is not a network name (name or namespace/name)`,
        );
      }
      return parts.length === 2 ? s : `${ns}/${s}`;
    });
}

/** A pod's addresses on a network by its network-status annotation ([] when not attached). */
export function networkAddresses(pod: V1Pod, network: string): string[] {
  const raw = pod.metadata?.annotations?.[NETWORK_STATUS_ANNOTATION];
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UserError(
      `pod ${pod.metadata?.namespace ?? '?'}/${pod.metadata?.name ?? '?'}: ` +
        `annotation ${NETWORK_STATUS_ANNOTATION} is not JSON`,
    );
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((e: unknown) => {
    if (typeof e !== 'object' || e === null) return [];
    const entry = e as { name?: unknown; default?: unknown; ips?: unknown };
    if (entry.name !== network || entry.default === true || !Array.isArray(entry.ips)) return [];
    return entry.ips.filter((ip): ip is string => typeof ip === 'string');
  });
}

/** The MultiNetworkPolicies for `network`, as the NetworkPolicies with the same spec. */
export function policiesForNetwork(mnps: readonly MultiNetworkPolicy[], network: string): V1NetworkPolicy[] {
  return mnps
    .filter((m) => policyNetworks(m).includes(network))
    .map((m) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: m.metadata?.name ?? '', namespace: m.metadata?.namespace ?? '' },
      spec: m.spec ?? { podSelector: {} },
    }));
}

/**
 * The pods attached to `network`, as the evaluator sees them: addresses on that network only, and no
 * host IP (nodes have no address on a secondary network, so the own-node exception does not arise).
 */
export function attachedPods(pods: readonly V1Pod[], network: string): PodInfo[] {
  return pods.flatMap((pod) => {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return [];
    const ips = networkAddresses(pod, network);
    if (ips.length === 0) return [];
    const { hostIP: _hostIP, ...info } = podInfo(pod);
    return [{ ...info, ips }];
  });
}

export interface MultiNetworkInput {
  /** "namespace/name" of the NetworkAttachmentDefinition. */
  network: string;
  namespaces: readonly NamespaceInfo[];
  pods: readonly V1Pod[];
  policies: readonly MultiNetworkPolicy[];
}

/** The evaluator's model of one secondary network: feed it to evaluate() or expectedMatrix(). */
export function multiNetworkModel(input: MultiNetworkInput): NetworkModel {
  if (!/^[^/]+\/[^/]+$/.test(input.network)) throw new UserError(`network: "${input.network}" must be namespace/name`);
  return buildModel({
    namespaces: input.namespaces,
    pods: attachedPods(input.pods, input.network),
    policies: policiesForNetwork(input.policies, input.network),
  });
}
