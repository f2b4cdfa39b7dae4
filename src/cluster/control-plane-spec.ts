import { join } from 'node:path';
import type { ClusterLayout } from './layout.js';

export const controlPlaneOrder = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type ControlPlaneComponent = (typeof controlPlaneOrder)[number];

export interface ControlPlanePorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
}

export interface NetworkSettings {
  serviceCIDR: string;
  /** First address of serviceCIDR: the `kubernetes` Service's ClusterIP. */
  apiServiceIP: string;
  /**
   * Where nodes and pods reach the API server (the host's address on the node bridge); absent for a
   * control plane without nodes, which then publishes no endpoints for the `kubernetes` Service.
   */
  advertiseAddress?: string;
}

export const defaultNetwork: NetworkSettings = { serviceCIDR: '10.96.0.0/16', apiServiceIP: '10.96.0.1' };

export interface ComponentSpec {
  name: ControlPlaneComponent;
  binary: string;
  args: string[];
  /** HTTPS endpoint that answers 200 when the component is healthy. */
  healthURL: string;
  /** Which client certificate the health check presents (etcd and the API server want one). */
  healthClientCert?: string;
  /** The CA that signed the component's serving certificate. */
  healthCA: string;
}

export interface SpecInput {
  layout: ClusterLayout;
  ports: ControlPlanePorts;
  binaries: Record<ControlPlaneComponent, string>;
  network: NetworkSettings;
}

/** The exact command line of every control-plane component, derived from the cluster's layout and ports. */
export function controlPlaneSpecs({ layout, ports, binaries, network }: SpecInput): ComponentSpec[] {
  const pki = (f: string): string => join(layout.pki, f);
  const etcdURL = `https://127.0.0.1:${ports.etcdClient}`;
  const peerURL = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    {
      name: 'etcd',
      binary: binaries.etcd,
      args: [
        '--name=kstack',
        `--data-dir=${layout.etcdData}`,
        `--listen-client-urls=${etcdURL}`,
        `--advertise-client-urls=${etcdURL}`,
        `--listen-peer-urls=${peerURL}`,
        `--initial-advertise-peer-urls=${peerURL}`,
        `--initial-cluster=kstack=${peerURL}`,
        `--cert-file=${pki('etcd-server.crt')}`,
        `--key-file=${pki('etcd-server.key')}`,
        `--trusted-ca-file=${pki('etcd-ca.crt')}`,
        '--client-cert-auth=true',
        '--log-level=warn',
      ],
      healthURL: `${etcdURL}/health`,
      healthClientCert: 'apiserver-etcd-client',
      healthCA: pki('etcd-ca.crt'),
    },
    {
      name: 'kube-apiserver',
      binary: binaries['kube-apiserver'],
      args: [
        `--etcd-servers=${etcdURL}`,
        `--etcd-cafile=${pki('etcd-ca.crt')}`,
        `--etcd-certfile=${pki('apiserver-etcd-client.crt')}`,
        `--etcd-keyfile=${pki('apiserver-etcd-client.key')}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.apiserver}`,
        `--tls-cert-file=${pki('apiserver.crt')}`,
        `--tls-private-key-file=${pki('apiserver.key')}`,
        `--client-ca-file=${pki('ca.crt')}`,
        `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
        `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki('sa.pub')}`,
        `--service-account-signing-key-file=${pki('sa.key')}`,
        `--service-cluster-ip-range=${network.serviceCIDR}`,
        '--authorization-mode=Node,RBAC',
        // PodSecurity is on by default; named here so nobody removes it by accident.
        '--enable-admission-plugins=NodeRestriction,PodSecurity',
        `--encryption-provider-config=${join(layout.config, 'encryption.yaml')}`,
        '--allow-privileged=true',
        `--kubelet-certificate-authority=${pki('ca.crt')}`,
        '--kubelet-preferred-address-types=InternalIP',
        // The API server listens on loopback only. With nodes, they reach it at the advertised bridge
        // address (forwarded to loopback); without nodes there is no valid address to publish.
        ...(network.advertiseAddress
          ? [`--advertise-address=${network.advertiseAddress}`]
          : ['--endpoint-reconciler-type=none']),
        '--profiling=false',
      ],
      healthURL: `https://127.0.0.1:${ports.apiserver}/readyz`,
      healthClientCert: 'admin',
      healthCA: pki('ca.crt'),
    },
    {
      name: 'kube-controller-manager',
      binary: binaries['kube-controller-manager'],
      args: [
        ...componentKubeconfigArgs(join(layout.config, 'controller-manager.kubeconfig')),
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.controllerManager}`,
        `--tls-cert-file=${pki('controller-manager-serving.crt')}`,
        `--tls-private-key-file=${pki('controller-manager-serving.key')}`,
        `--client-ca-file=${pki('ca.crt')}`,
        `--cluster-signing-cert-file=${pki('ca.crt')}`,
        `--cluster-signing-key-file=${pki('ca.key')}`,
        `--root-ca-file=${pki('ca.crt')}`,
        `--service-account-private-key-file=${pki('sa.key')}`,
        '--use-service-account-credentials=true',
        '--controllers=*,bootstrapsigner,tokencleaner',
        `--service-cluster-ip-range=${network.serviceCIDR}`,
        '--leader-elect=false',
        // A local cluster should notice a dead node in seconds, not the better part of a minute.
        '--node-monitor-grace-period=20s',
        '--profiling=false',
      ],
      healthURL: `https://127.0.0.1:${ports.controllerManager}/healthz`,
      healthCA: pki('ca.crt'),
    },
    {
      name: 'kube-scheduler',
      binary: binaries['kube-scheduler'],
      args: [
        ...componentKubeconfigArgs(join(layout.config, 'scheduler.kubeconfig')),
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.scheduler}`,
        `--tls-cert-file=${pki('scheduler-serving.crt')}`,
        `--tls-private-key-file=${pki('scheduler-serving.key')}`,
        `--client-ca-file=${pki('ca.crt')}`,
        '--leader-elect=false',
        '--profiling=false',
      ],
      healthURL: `https://127.0.0.1:${ports.scheduler}/healthz`,
      healthCA: pki('ca.crt'),
    },
  ];
}

function componentKubeconfigArgs(kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
  ];
}

/** Encryption at rest for Secrets (secretbox, key generated per cluster). */
export function encryptionConfig(base64Key: string): string {
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources: [secrets]',
    '    providers:',
    '      - secretbox:',
    '          keys:',
    '            - name: key1',
    `              secret: ${base64Key}`,
    '      - identity: {}',
    '',
  ].join('\n');
}
