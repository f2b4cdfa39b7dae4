import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { controlPlaneSpecs, defaultNetwork, encryptionConfig } from '../../../src/cluster/control-plane-spec.js';
import { clusterLayout } from '../../../src/cluster/layout.js';
import { renderKubeconfig } from '../../../src/cluster/kubeconfig.js';
import { parse } from 'yaml';

const layout = clusterLayout('demo', '/state');
const ports = { etcdClient: 2379, etcdPeer: 2380, apiserver: 6443, controllerManager: 10257, scheduler: 10259 };
const binaries = {
  etcd: '/b/etcd',
  'kube-apiserver': '/b/api',
  'kube-controller-manager': '/b/cm',
  'kube-scheduler': '/b/sched',
};
const specs = controlPlaneSpecs({ layout, ports, binaries, network: defaultNetwork });
const argsOf = (name: string): string[] => specs.find((s) => s.name === name)?.args ?? [];

describe('control plane command lines', () => {
  it('starts in dependency order', () => {
    assert.deepEqual(
      specs.map((s) => s.name),
      ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
    );
  });

  it('listens on loopback only', () => {
    for (const s of specs) {
      // The issuer is a name inside tokens, not an address anything listens on or dials.
      for (const arg of s.args.filter((a) => !a.startsWith('--service-account-issuer='))) {
        const urls = arg.match(/https?:\/\/[^,\s]+/g) ?? [];
        for (const url of urls) assert.match(url, /^https?:\/\/127\.0\.0\.1:\d+/, `${s.name}: ${arg}`);
        if (arg.startsWith('--bind-address=')) assert.equal(arg, '--bind-address=127.0.0.1');
      }
      assert.match(s.healthURL, /^https:\/\/127\.0\.0\.1:/);
    }
  });

  it('turns on RBAC, Node authorization, PodSecurity admission and Secret encryption', () => {
    const api = argsOf('kube-apiserver');
    assert.ok(api.includes('--authorization-mode=Node,RBAC'));
    assert.ok(api.some((a) => a.startsWith('--enable-admission-plugins=') && a.includes('PodSecurity')));
    assert.ok(api.includes('--encryption-provider-config=/state/demo/config/encryption.yaml'));
    assert.ok(api.includes('--etcd-servers=https://127.0.0.1:2379'));
  });

  it('requires client certificates on etcd', () => {
    const etcd = argsOf('etcd');
    assert.ok(etcd.includes('--client-cert-auth=true'));
    assert.ok(etcd.includes('--trusted-ca-file=/state/demo/pki/etcd-ca.crt'));
    assert.ok(etcd.includes('--data-dir=/state/demo/etcd'));
  });

  it('keeps every file of the cluster under its folder', () => {
    for (const s of specs)
      for (const arg of s.args) {
        const path = /=(\/[^,]*)$/.exec(arg)?.[1];
        if (path && !path.startsWith('/b/')) assert.ok(path.startsWith('/state/demo/'), `${s.name}: ${arg}`);
      }
  });

  it('writes an encryption config whose key is the one given', () => {
    const cfg = parse(encryptionConfig('a2V5')) as {
      resources: { resources: string[]; providers: { secretbox?: { keys: { secret: string }[] } }[] }[];
    };
    assert.deepEqual(cfg.resources[0]?.resources, ['secrets']);
    assert.equal(cfg.resources[0]?.providers[0]?.secretbox?.keys[0]?.secret, 'a2V5');
  });
});

describe('kubeconfig', () => {
  it('is self-contained and selects its own context', () => {
    const cfg = parse(
      renderKubeconfig({
        clusterName: 'demo',
        server: 'https://127.0.0.1:6443',
        caPem: 'CA',
        user: 'admin',
        clientCertPem: 'CERT',
        clientKeyPem: 'KEY',
      }),
    ) as Record<string, unknown>;
    assert.equal(cfg['current-context'], 'demo');
    const clusters = cfg.clusters as { cluster: Record<string, string> }[];
    assert.equal(Buffer.from(clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), 'CA');
    const users = cfg.users as { user: Record<string, string> }[];
    assert.equal(Buffer.from(users[0]?.user['client-key-data'] ?? '', 'base64').toString(), 'KEY');
  });
});

describe('cluster names', () => {
  it('refuses names that are not DNS labels, naming the flag', () => {
    for (const bad of ['', 'Upper', '-lead', 'trail-', 'a_b', 'x'.repeat(41), '../etc']) {
      assert.throws(() => clusterLayout(bad, '/state'), /--name '.*' is not a valid cluster name/, JSON.stringify(bad));
    }
    assert.equal(clusterLayout('web-1', '/state').root, '/state/web-1');
  });
});
