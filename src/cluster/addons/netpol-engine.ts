// The NetworkPolicy engine of the local cluster: kube-router with only its firewall controller, one per
// node inside the node's network namespace (see docs/decisions/0004-policy-engine.md). Pure: the
// arguments and the RBAC objects; nodes.ts starts it as a node agent.

export const KUBE_ROUTER_USER = 'kstack:kube-router';

/** Port of kube-router's /healthz inside each node's network namespace (its default). */
export const KUBE_ROUTER_HEALTH_PORT = 20244;

export interface KubeRouterInput {
  nodeName: string;
  kubeconfig: string;
  serviceCIDR: string;
}

export function kubeRouterArgs({ nodeName, kubeconfig, serviceCIDR }: KubeRouterInput): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    // The node name as the kubelet registers it: kube-router finds the node's address (and with it
    // the pods it is responsible for: status.hostIP) from the Node object.
    `--hostname-override=${nodeName}`,
    // NetworkPolicy only: routes come from kstack's node network, services from kube-proxy, the pod
    // network from the bridge CNI config.
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    '--run-loadbalancer=false',
    '--enable-cni=false',
    '--enable-ipv4=true',
    '--enable-ipv6=false',
    // Traffic to service addresses is left to kube-proxy's DNAT; the policy then sees the pod address.
    `--service-cluster-ip-range=${serviceCIDR}`,
    `--health-port=${KUBE_ROUTER_HEALTH_PORT}`,
    '--metrics-port=0',
    // Events trigger a sync at once; the periodic full sync only repairs drift.
    '--iptables-sync-period=1m',
    '--cache-sync-timeout=1m',
    '--v=1',
  ];
}

/**
 * What kube-router's firewall controller reads: it watches pods, namespaces and NetworkPolicies, reads
 * its own Node, and (shared informers started for every controller) lists services and endpoints.
 */
export function kubeRouterRBAC(): object[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: KUBE_ROUTER_USER },
      rules: [
        {
          apiGroups: [''],
          resources: ['pods', 'namespaces', 'nodes', 'services', 'endpoints'],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: KUBE_ROUTER_USER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: KUBE_ROUTER_USER },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBE_ROUTER_USER }],
    },
  ];
}
