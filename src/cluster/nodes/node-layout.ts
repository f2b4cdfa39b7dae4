import { join } from 'node:path';
import type { ClusterLayout } from '../layout.js';

/** The cgroup (v1) under which a node's pods live, in every hierarchy. */
export const cgroupRootName = (cluster: string, node: string): string => `kstack-${cluster}-${node}`;

/** Where one node keeps its files, all under the cluster's folder so `down` can remove them. */
export interface NodeLayout {
  root: string;
  containerdConfig: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  runcRoot: string;
  cniConfDir: string;
  cniDataDir: string;
  /** containerd's CNI bin_dir: links to the system plugins plus multinet and whereabouts. */
  cniBinDir: string;
  /** libcni's result cache for the plugins multinet delegates to. */
  cniCacheDir: string;
  /** multinet's record of the node's pod sandboxes and their secondary interfaces. */
  multinetStateDir: string;
  kubeletRoot: string;
  /** Pod log files of this node's kubelet (not the host's /var/log/pods: kubelets sharing it delete each other's). */
  podLogs: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  kubeProxyConfig: string;
  kubeProxyKubeconfig: string;
  resolvConf: string;
  logs: string;
  /**
   * containerd's registry hosts folder (one `HOST:PORT/hosts.toml`
   * per trusted registry), shared by the cluster's nodes.
   */
  registryHostsDir: string;
}

export function nodeLayout(cluster: ClusterLayout, node: string): NodeLayout {
  const root = join(cluster.root, 'nodes', node);
  return {
    root,
    containerdConfig: join(root, 'containerd', 'config.toml'),
    containerdRoot: join(root, 'containerd', 'root'),
    containerdState: join(root, 'containerd', 'state'),
    containerdSocket: join(root, 'containerd', 'containerd.sock'),
    runcRoot: join(root, 'containerd', 'runc'),
    cniConfDir: join(root, 'cni', 'net.d'),
    cniDataDir: join(root, 'cni', 'ipam'),
    cniBinDir: join(root, 'cni', 'bin'),
    cniCacheDir: join(root, 'cni', 'cache'),
    multinetStateDir: join(root, 'cni', 'multinet'),
    kubeletRoot: join(root, 'kubelet'),
    podLogs: join(root, 'pod-logs'),
    kubeletConfig: join(root, 'kubelet-config.yaml'),
    kubeletKubeconfig: join(root, 'kubelet.kubeconfig'),
    kubeProxyConfig: join(root, 'kube-proxy-config.yaml'),
    kubeProxyKubeconfig: join(root, 'kube-proxy.kubeconfig'),
    resolvConf: join(root, 'resolv.conf'),
    logs: join(cluster.logs, node),
    registryHostsDir: registryHostsDir(cluster),
  };
}

/** Where `cluster up --registry-ca` puts what containerd needs to trust a registry (read at every pull). */
export const registryHostsDir = (cluster: ClusterLayout): string => join(cluster.root, 'registries');
