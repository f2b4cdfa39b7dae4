import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { claimsToProvision, volumeFor, volumesToDelete } from '../../../../src/cluster/addons/local-path.js';
import { coreDNS, LOCAL_PATH_CLASS, LOCAL_PATH_PROVISIONER } from '../../../../src/cluster/addons/manifests.js';
import { clusterLayout } from '../../../../src/cluster/layout.js';
import { readySince } from '../../../../src/cluster/nodes/cluster-nodes.js';
import { hostRules, splitRule } from '../../../../src/cluster/nodes/network.js';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
} from '../../../../src/cluster/nodes/node-config.js';
import { nodeLayout } from '../../../../src/cluster/nodes/node-layout.js';
import { nodeObject } from '../../../../src/cluster/nodes/nodes.js';
import {
  DEFAULT_DB_TAINT,
  nodeRoles,
  parseTaint,
  planClusterNetwork,
  survivesNodeLoss,
} from '../../../../src/cluster/nodes/plan.js';

const net = planClusterNetwork('demo', { count: 3, dbTaint: DEFAULT_DB_TAINT });
const web = net.nodes[0]!;
const db = net.nodes[1]!;
const layout = nodeLayout(clusterLayout('demo', '/state'), web.name);

describe('node plan', () => {
  it('makes web-1, db-1, db-2 by default, with roles as labels and the taint on db nodes only', () => {
    assert.deepEqual(
      net.nodes.map((n) => n.name),
      ['web-1', 'db-1', 'db-2'],
    );
    assert.deepEqual(web.labels, { 'node-role.kstack.io/web': '' });
    assert.deepEqual(web.taints, []);
    assert.deepEqual(db.labels, { 'node-role.kstack.io/db': '' });
    assert.deepEqual(db.taints, [DEFAULT_DB_TAINT]);
  });

  it('gives one untainted node both roles', () => {
    const one = planClusterNetwork('solo', { count: 1, dbTaint: DEFAULT_DB_TAINT });
    assert.deepEqual(one.nodes[0]?.labels, { 'node-role.kstack.io/web': '', 'node-role.kstack.io/db': '' });
    assert.deepEqual(one.nodes[0]?.taints, []);
  });

  it("keeps every node and pod address distinct, inside the cluster's own ranges", () => {
    const ips = net.nodes.map((n) => n.ip);
    const cidrs = net.nodes.map((n) => n.podCIDR);
    assert.equal(new Set(ips).size, 3);
    assert.equal(new Set(cidrs).size, 3);
    const prefix = net.gateway.split('.').slice(0, 3).join('.');
    for (const ip of ips) assert.ok(ip.startsWith(`${prefix}.`));
    assert.equal(net.nodeSubnet, `${prefix}.0/24`);
    for (const c of cidrs) assert.match(c, /^10\.244\.\d+\.0\/24$/);
  });

  it('derives names short enough for Linux interfaces, and different per cluster', () => {
    const other = planClusterNetwork('other', { count: 3 });
    assert.ok(net.bridge.length <= 15 && web.hostVeth.length <= 15);
    assert.notEqual(net.bridge, other.bridge);
    assert.notEqual(web.hostVeth, other.nodes[0]?.hostVeth);
    assert.equal(web.netns, 'kstack-demo-web-1');
  });

  it('gives roles that follow from the count: 3 db nodes from 4 nodes on, the rest web nodes', () => {
    const names = (n: number): string =>
      nodeRoles(n)
        .map((r) => r.name)
        .join(',');
    assert.equal(names(1), 'node-1');
    assert.equal(names(2), 'web-1,db-1');
    assert.equal(names(3), 'web-1,db-1,db-2');
    assert.equal(names(4), 'web-1,db-1,db-2,db-3');
    assert.equal(names(5), 'web-1,web-2,db-1,db-2,db-3');
    assert.equal(names(7), 'web-1,web-2,web-3,web-4,db-1,db-2,db-3');
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => survivesNodeLoss(n)),
      [false, false, false, false, true, true],
    );
  });

  it('refuses node counts it cannot plan, naming the flag', () => {
    for (const bad of [0, 10, 2.5, -1])
      assert.throws(() => nodeRoles(bad), /--nodes .* is not supported: use a whole number from 1 to 9/);
  });

  it('parses taints like kubectl and names the flag when one is wrong', () => {
    assert.deepEqual(parseTaint('db-taint', 'dedicated=db:NoSchedule'), DEFAULT_DB_TAINT);
    assert.deepEqual(parseTaint('db-taint', 'a.b/c=:NoExecute'), { key: 'a.b/c', value: '', effect: 'NoExecute' });
    for (const bad of ['dedicated', 'dedicated=db', 'x=y:Sometimes', '=v:NoSchedule']) {
      assert.throws(() => parseTaint('db-taint', bad), /--db-taint '.*' is not a taint: use key=value:Effect/, bad);
    }
  });

  it('registers Node objects with the pod CIDR, role labels and taints', () => {
    const obj = nodeObject(db) as {
      metadata: { labels: Record<string, string> };
      spec: { podCIDR: string; taints: unknown[] };
    };
    assert.equal(obj.spec.podCIDR, db.podCIDR);
    assert.equal(obj.metadata.labels['kubernetes.io/hostname'], 'db-1');
    assert.ok('node-role.kstack.io/db' in obj.metadata.labels);
    assert.deepEqual(obj.spec.taints, [DEFAULT_DB_TAINT]);
  });
});

describe('node configuration', () => {
  it("keeps containerd's root, state, socket, runc root and pod netns under the node folder", () => {
    const toml = containerdConfig(layout);
    for (const path of [
      layout.containerdRoot,
      layout.containerdState,
      layout.containerdSocket,
      layout.runcRoot,
      layout.cniConfDir,
    ]) {
      assert.ok(toml.includes(JSON.stringify(path)), path);
    }
    assert.match(toml, /netns_mounts_under_state_dir = true/);
    assert.match(toml, /SystemdCgroup = false/);
    assert.match(toml, /restrict_oom_score_adj = true/);
    assert.match(toml, /sandbox_image = "kstack\.local\/pause:local"/);
  });

  it("points containerd's registry hosts at the cluster's shared folder, which --registry-ca fills", () => {
    const toml = containerdConfig(layout);
    assert.match(
      toml,
      /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n\s+#[^\n]*\n\s+config_path = "\/state\/demo\/registries"/,
    );
  });

  it("gives pods the node's pod CIDR without masquerading between pods", () => {
    const cni = JSON.parse(cniConfig(net, web, layout)) as {
      plugins: { type: string; ipMasq?: boolean; ipam?: { ranges: { subnet: string }[][]; dataDir: string } }[];
    };
    const bridge = cni.plugins.find((p) => p.type === 'bridge');
    assert.equal(bridge?.ipMasq, false);
    assert.equal(bridge?.ipam?.ranges[0]?.[0]?.subnet, web.podCIDR);
    assert.equal(bridge?.ipam?.dataDir, layout.cniDataDir);
  });

  it('configures the kubelet for cgroup v1, its own cgroup root, x509+webhook auth and cluster DNS', () => {
    const cfg = parse(
      kubeletConfig({
        net,
        node: web,
        layout,
        clusterCA: '/ca.crt',
        servingCert: '/s.crt',
        servingKey: '/s.key',
        cgroupRoot: '/kstack-demo-web-1',
      }),
    ) as Record<string, unknown>;
    assert.equal(cfg.failCgroupV1, false);
    assert.equal(cfg.cgroupDriver, 'cgroupfs');
    assert.equal(cfg.cgroupRoot, '/kstack-demo-web-1');
    assert.equal(cfg.address, web.ip);
    assert.equal(cfg.readOnlyPort, 0);
    assert.deepEqual(cfg.authentication, {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: '/ca.crt' },
    });
    assert.deepEqual(cfg.clusterDNS, [net.dnsServiceIP]);
    assert.equal(cfg.imageGCHighThresholdPercent, 100);
  });

  it('runs kube-proxy in iptables mode without touching host-global conntrack settings', () => {
    const cfg = parse(kubeProxyConfig(net, web, layout)) as {
      mode: string;
      clusterCIDR: string;
      conntrack: Record<string, unknown>;
    };
    assert.equal(cfg.mode, 'iptables');
    assert.equal(cfg.clusterCIDR, net.podCIDR);
    assert.deepEqual(cfg.conntrack, { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' });
  });

  it('forwards only API traffic arriving on the cluster bridge to loopback, tagged for removal', () => {
    const rules = hostRules('demo', net, 6443);
    assert.equal(rules.length, 1);
    const rule = rules[0]!.rule.join(' ');
    assert.match(rule, new RegExp(`^-i ${net.bridge} -d ${net.gateway.replace(/\./g, '\\.')} -p tcp --dport 6443 `));
    assert.match(rule, /--comment kstack:demo -j DNAT --to-destination 127\.0\.0\.1:6443$/);
  });

  it('splits iptables -S lines with quoted comments', () => {
    assert.deepEqual(splitRule('PREROUTING -i br -m comment --comment "kstack:demo" -j DNAT'), [
      'PREROUTING',
      '-i',
      'br',
      '-m',
      'comment',
      '--comment',
      'kstack:demo',
      '-j',
      'DNAT',
    ]);
  });

  it('runs CoreDNS non-root, read-only, on every node, at the DNS Service address', () => {
    const objs = coreDNS('10.96.0.10') as { kind: string }[];
    const svc = objs.find((o) => o.kind === 'Service') as unknown as { spec: { clusterIP: string } };
    assert.equal(svc.spec.clusterIP, '10.96.0.10');
    const dep = objs.find((o) => o.kind === 'Deployment') as unknown as {
      spec: {
        template: {
          spec: {
            securityContext: { runAsNonRoot: boolean };
            tolerations: { operator: string; effect?: string }[];
            containers: { securityContext: { readOnlyRootFilesystem: boolean } }[];
          };
        };
      };
    };
    const pod = dep.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.containers[0]?.securityContext.readOnlyRootFilesystem, true);
    assert.ok(pod.tolerations.some((t) => t.operator === 'Exists' && t.effect === 'NoSchedule'));
  });

  it('treats a Ready transition from before the agents restarted as stale', () => {
    const since = Date.parse('2026-11-25T10:00:05.600Z');
    assert.equal(readySince('2026-11-25T10:00:04Z', since), false);
    assert.equal(readySince('2026-11-25T10:00:05Z', since), true);
    assert.equal(readySince('2026-11-25T10:01:00Z', since), true);
    assert.equal(readySince('2026-11-25T10:01:00Z', 0), true);
  });
});

describe('local-path provisioner decisions', () => {
  const pvc = (
    name: string,
    extra: { node?: string; phase?: string; volumeName?: string; cls?: string } = {},
  ): V1PersistentVolumeClaim => ({
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      annotations: extra.node ? { 'volume.kubernetes.io/selected-node': extra.node } : {},
    },
    spec: {
      storageClassName: extra.cls ?? LOCAL_PATH_CLASS,
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '2Gi' } },
      ...(extra.volumeName ? { volumeName: extra.volumeName } : {}),
    },
    status: { phase: extra.phase ?? 'Pending' },
  });

  it('provisions only scheduled, pending claims of its class that have no volume yet', () => {
    const claims = [
      pvc('ready', { node: 'db-1' }),
      pvc('unscheduled'),
      pvc('other-class', { node: 'db-1', cls: 'fast' }),
      pvc('bound', { node: 'db-1', phase: 'Bound', volumeName: 'x' }),
      pvc('has-pv', { node: 'db-2' }),
    ];
    const pvs = [{ metadata: { name: 'pvc-uid-has-pv' } }];
    assert.deepEqual(
      claimsToProvision(claims, pvs).map((c) => c.metadata?.name),
      ['ready'],
    );
  });

  it('makes a local volume pinned to the selected node, bound to the claim, deleted with it', () => {
    const pv = volumeFor(pvc('data', { node: 'db-2' }), '/vol');
    assert.equal(pv.metadata?.name, 'pvc-uid-data');
    assert.equal(pv.spec?.local?.path, '/vol/db-2/pvc-uid-data');
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values, ['db-2']);
    assert.equal(pv.spec?.claimRef?.uid, 'uid-data');
    assert.equal(pv.spec?.capacity?.storage, '2Gi');
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, 'Delete');
  });

  it('deletes only its own released volumes', () => {
    const mine = (phase: string) => ({
      metadata: { name: phase, annotations: { 'pv.kubernetes.io/provisioned-by': LOCAL_PATH_PROVISIONER } },
      spec: { persistentVolumeReclaimPolicy: 'Delete' },
      status: { phase },
    });
    const foreign = {
      metadata: { name: 'foreign', annotations: {} },
      spec: { persistentVolumeReclaimPolicy: 'Delete' },
      status: { phase: 'Released' },
    };
    assert.deepEqual(
      volumesToDelete([mine('Bound'), mine('Released'), foreign]).map((v) => v.metadata?.name),
      ['Released'],
    );
  });
});
