/**
 * The Go programs kstack builds from source, by the name the binary gets in the cache. Each is a main
 * package of a module pinned in tools/go.mod.
 */
export interface GoComponent {
  name: string;
  pkg: string;
  /** Kubernetes components embed their version (kubectl, helm's kubeVersion checks and the API read it). */
  kubernetesVersionStamp: boolean;
}

export const goComponents = {
  etcd: { name: 'etcd', pkg: 'go.etcd.io/etcd/server/v3', kubernetesVersionStamp: false },
  etcdctl: { name: 'etcdctl', pkg: 'go.etcd.io/etcd/etcdctl/v3', kubernetesVersionStamp: false },
  'kube-apiserver': { name: 'kube-apiserver', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', kubernetesVersionStamp: true },
  'kube-controller-manager': { name: 'kube-controller-manager', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager', kubernetesVersionStamp: true },
  'kube-scheduler': { name: 'kube-scheduler', pkg: 'k8s.io/kubernetes/cmd/kube-scheduler', kubernetesVersionStamp: true },
} as const satisfies Record<string, GoComponent>;

export type GoComponentName = keyof typeof goComponents;

export const controlPlaneComponents = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const satisfies readonly GoComponentName[];

/** Programs for operators and tests (etcdctl compacts etcd to provoke watch expiry, for example). */
export const operatorTools = ['etcdctl'] as const satisfies readonly GoComponentName[];

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
