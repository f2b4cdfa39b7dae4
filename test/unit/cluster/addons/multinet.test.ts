import { crdYaml } from '../../../../src/cluster/addons/crds.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressesOn,
  cniBinLinks,
  inSubnet,
  macvlanAttachment,
  parseNetworkStatus,
  secondaryNetworkRBAC,
  CANARY_SUBNET,
  USER_SUBNET,
} from '../../../../src/cluster/addons/multinet.js';
import { containerdConfig, multinetConfig, MULTINET_CONFLIST } from '../../../../src/cluster/nodes/node-config.js';
import { nodeLayout } from '../../../../src/cluster/nodes/node-layout.js';
import { planClusterNetwork } from '../../../../src/cluster/nodes/plan.js';
import type { ClusterLayout } from '../../../../src/cluster/layout.js';

const layout = { name: 'demo', root: '/tmp/c/demo', logs: '/tmp/c/demo/logs' } as ClusterLayout;
const net = planClusterNetwork('demo', { count: 3 });
const node = net.nodes[0]!;
const nl = nodeLayout(layout, node.name);

describe('secondary network add-on (pure parts)', () => {
  it('containerd takes CNI plugins from the node bin dir, and multinet sorts before the bridge conflist', () => {
    assert.match(containerdConfig(nl), new RegExp(`bin_dir = "${nl.cniBinDir}"`));
    assert.ok(MULTINET_CONFLIST < '10-kstack.conflist');
  });

  it('multinet delegates the default network to the node bridge with its pod CIDR and passes port mappings', () => {
    const conf = JSON.parse(
      multinetConfig({ node, layout: nl, kubeconfig: '/k/m', whereaboutsConfig: '/k/w.conf' }),
    ) as {
      plugins: {
        type: string;
        kubeconfig: string;
        whereaboutsConfig: string;
        binDir: string;
        stateDir: string;
        capabilities: object;
        defaultNetwork: { name: string; plugins: { type: string; ipam?: { ranges: { subnet: string }[][] } }[] };
      }[];
    };
    const p = conf.plugins[0]!;
    assert.equal(p.type, 'multinet');
    assert.deepEqual(
      [p.kubeconfig, p.whereaboutsConfig, p.binDir, p.stateDir],
      ['/k/m', '/k/w.conf', nl.cniBinDir, nl.multinetStateDir],
    );
    assert.deepEqual(p.capabilities, { portMappings: true });
    assert.equal(p.defaultNetwork.name, 'kstack');
    assert.equal(p.defaultNetwork.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet, node.podCIDR);
  });

  it('links every system plugin and adds multinet and whereabouts', () => {
    const links = cniBinLinks(['bridge', 'macvlan'], { multinet: '/b/multinet', whereabouts: '/b/whereabouts' });
    assert.deepEqual(
      [...links],
      [
        ['bridge', '/usr/lib/cni/bridge'],
        ['macvlan', '/usr/lib/cni/macvlan'],
        ['multinet', '/b/multinet'],
        ['whereabouts', '/b/whereabouts'],
      ],
    );
  });

  it('takes an upstream CRD file as is when it holds exactly the expected CRD', () => {
    const crd = '---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b.io\n';
    assert.equal(crdYaml(crd, 'f.yaml', 'a.b.io'), crd.slice(4));
    assert.throws(() => crdYaml(crd, 'f.yaml', 'x.b.io'), /f.yaml: does not define x.b.io/);
    assert.throws(
      () => crdYaml(`${crd}---\nkind: Deployment\n`, 'f.yaml', 'a.b.io'),
      /expected one CustomResourceDefinition, found kinds CustomResourceDefinition, Deployment/,
    );
  });

  it('the canary network is a macvlan on the node uplink with whereabouts in its own subnet', () => {
    const nad = macvlanAttachment('n', 'ns', CANARY_SUBNET) as { spec: { config: string } };
    assert.deepEqual(JSON.parse(nad.spec.config), {
      cniVersion: '1.0.0',
      name: 'n',
      type: 'macvlan',
      master: 'eth0',
      mode: 'bridge',
      ipam: { type: 'whereabouts', range: CANARY_SUBNET },
    });
    assert.equal(inSubnet('10.78.255.7', CANARY_SUBNET), true);
    assert.equal(inSubnet('10.78.255.7', USER_SUBNET), false);
    assert.equal(inSubnet('10.78.1.7', USER_SUBNET), true);
    assert.equal(inSubnet('10.244.0.7', USER_SUBNET), false);
  });

  it('reads network-status: addresses on a named network, not the default one; malformed JSON names the pod', () => {
    const s = parseNetworkStatus(
      {
        'k8s.v1.cni.cncf.io/network-status': JSON.stringify([
          { name: 'kstack', ips: ['10.244.0.5'], default: true },
          { name: 'kube-system/kstack-canary', interface: 'net1', ips: ['10.78.255.2'] },
        ]),
      },
      'p',
    );
    assert.deepEqual(addressesOn(s, 'kube-system/kstack-canary'), ['10.78.255.2']);
    assert.deepEqual(addressesOn(s, 'kstack'), []);
    assert.deepEqual(parseNetworkStatus(undefined, 'p'), []);
    assert.throws(
      () => parseNetworkStatus({ 'k8s.v1.cni.cncf.io/network-status': '{' }, 'ns/p'),
      /pod ns\/p: .* is not JSON/,
    );
  });

  it('multinet may write network-status (pods/status) but not change pod specs', () => {
    const role = secondaryNetworkRBAC()[0] as { rules: { resources: string[]; verbs: string[] }[] };
    assert.deepEqual(role.rules.find((r) => r.resources.includes('pods'))?.verbs, ['get']);
    assert.ok(role.rules.find((r) => r.resources.includes('pods/status'))?.verbs.includes('update'));
  });
});
