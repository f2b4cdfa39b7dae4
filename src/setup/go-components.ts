/**
 * The Go programs kstack builds from source. Each upstream project has its own pinned module under
 * tools/<module>/ (their dependency graphs conflict, so they cannot share one go.mod); the go.mod of
 * that module is the one place that says its version.
 */
export interface GoComponent {
  name: string;
  /** Folder under tools/ holding the go.mod that pins it. */
  module: string;
  pkg: string;
  /** Kubernetes components embed their version (kubectl, helm's kubeVersion checks and the API read it). */
  kubernetesVersionStamp: boolean;
}

export const goComponents = {
  etcd: { name: 'etcd', module: 'kubernetes', pkg: 'go.etcd.io/etcd/server/v3', kubernetesVersionStamp: false },
  etcdctl: { name: 'etcdctl', module: 'kubernetes', pkg: 'go.etcd.io/etcd/etcdctl/v3', kubernetesVersionStamp: false },
  'kube-apiserver': {
    name: 'kube-apiserver',
    module: 'kubernetes',
    pkg: 'k8s.io/kubernetes/cmd/kube-apiserver',
    kubernetesVersionStamp: true,
  },
  'kube-controller-manager': {
    name: 'kube-controller-manager',
    module: 'kubernetes',
    pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager',
    kubernetesVersionStamp: true,
  },
  'kube-scheduler': {
    name: 'kube-scheduler',
    module: 'kubernetes',
    pkg: 'k8s.io/kubernetes/cmd/kube-scheduler',
    kubernetesVersionStamp: true,
  },
  kubelet: {
    name: 'kubelet',
    module: 'kubernetes',
    pkg: 'k8s.io/kubernetes/cmd/kubelet',
    kubernetesVersionStamp: true,
  },
  'kube-proxy': {
    name: 'kube-proxy',
    module: 'kubernetes',
    pkg: 'k8s.io/kubernetes/cmd/kube-proxy',
    kubernetesVersionStamp: true,
  },
  coredns: { name: 'coredns', module: 'coredns', pkg: 'github.com/coredns/coredns', kubernetesVersionStamp: false },
  // NetworkPolicy engine on every node (only its firewall controller runs; see docs/decisions/0004-policy-engine.md).
  'kube-router': {
    name: 'kube-router',
    module: 'kube-router',
    pkg: 'github.com/cloudnativelabs/kube-router/v2/cmd/kube-router',
    kubernetesVersionStamp: false,
  },
  pause: { name: 'pause', module: 'pause', pkg: 'kstack.local/tools/pause', kubernetesVersionStamp: false },
  // Secondary networks (docs/decisions/0005-secondary-network.md): kstack's thin meta-plugin and its
  // MultiNetworkPolicy agent, on the Network Plumbing WG's reference library; whereabouts IPAM upstream.
  multinet: {
    name: 'multinet',
    module: 'multinet',
    pkg: 'kstack.local/tools/multinet/cmd/multinet',
    kubernetesVersionStamp: false,
  },
  'multinet-policy': {
    name: 'multinet-policy',
    module: 'multinet',
    pkg: 'kstack.local/tools/multinet/cmd/multinet-policy',
    kubernetesVersionStamp: false,
  },
  whereabouts: {
    name: 'whereabouts',
    module: 'whereabouts',
    pkg: 'github.com/k8snetworkplumbingwg/whereabouts/cmd',
    kubernetesVersionStamp: false,
  },
  // The S3-compatible server the disaster-recovery tests and bench:dr store backups in.
  minio: { name: 'minio', module: 'minio', pkg: 'github.com/minio/minio', kubernetesVersionStamp: false },
  // Writes charts/webstack/README.md from the `# --` comments of values.yaml (npm run chart:docs; lint checks it).
  'helm-docs': {
    name: 'helm-docs',
    module: 'helm-docs',
    pkg: 'github.com/norwoodj/helm-docs/cmd/helm-docs',
    kubernetesVersionStamp: false,
  },
} as const satisfies Record<string, GoComponent>;

export type GoComponentName = keyof typeof goComponents;

export const controlPlaneComponents = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
] as const satisfies readonly GoComponentName[];

/** What every node runs, and the single-binary images (pause, CoreDNS) the cluster needs. */
export const nodeComponents = [
  'kubelet',
  'kube-proxy',
  'kube-router',
  'pause',
  'coredns',
  'multinet',
  'multinet-policy',
  'whereabouts',
] as const satisfies readonly GoComponentName[];

/**
 * What a cluster with nodes builds beyond the control plane: the nodes' programs and MinIO, the local S3
 * server on the host that the stack's backups go to (src/cluster/addons/local-s3.ts).
 */
export const nodeHostComponents = [...nodeComponents, 'minio'] as const satisfies readonly GoComponentName[];

/** -ldflags that stamp the Kubernetes version the way the upstream release build does. */
export function versionLdflags(kubernetesVersion: string): string[] {
  const m = /^v(\d+)\.(\d+)\./.exec(kubernetesVersion);
  if (!m) throw new Error(`not a Kubernetes version: ${kubernetesVersion}`);
  const flags: string[] = [];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(
      `-X ${pkg}.gitVersion=${kubernetesVersion}`,
      `-X ${pkg}.gitMajor=${m[1] ?? ''}`,
      `-X ${pkg}.gitMinor=${m[2] ?? ''}`,
      `-X ${pkg}.gitTreeState=clean`,
    );
  }
  return flags;
}
