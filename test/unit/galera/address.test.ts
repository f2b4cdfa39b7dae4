// Which address a db member advertises to its peers (pure logic; the interface table is a literal, shaped
// like os.networkInterfaces()).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  advertisedHost,
  clusterAddress,
  hostPort,
  interfaceAddress,
  type InterfaceAddress,
} from '../../../src/galera/address.js';
import { parseReport } from '../../../src/galera/report.js';

const v4 = (address: string): InterfaceAddress => ({ address, family: 'IPv4', internal: false });
const v6 = (address: string): InterfaceAddress => ({ address, family: 'IPv6', internal: false });
const POD = { lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }], eth0: [v4('10.244.1.7'), v6('fe80::1')] };
const MULTUS = { ...POD, net1: [v6('fe80::2'), v4('10.78.0.12')] };

describe('advertised address', () => {
  it("uses the secondary interface's IPv4 address when one is configured (replication over net1)", () => {
    assert.equal(
      advertisedHost({ secondaryInterface: 'net1', podIp: '10.244.1.7', memberHost: 'db-1.h', interfaces: MULTUS }),
      '10.78.0.12',
    );
  });

  it('uses the pod IP without a secondary network, and the configured host when there is no pod IP (loopback)', () => {
    assert.equal(
      advertisedHost({ secondaryInterface: undefined, podIp: '10.244.1.7', memberHost: 'db-1.h', interfaces: POD }),
      '10.244.1.7',
    );
    assert.equal(
      advertisedHost({ secondaryInterface: undefined, podIp: undefined, memberHost: '127.0.0.1', interfaces: POD }),
      '127.0.0.1',
    );
  });

  it('takes a global IPv6 address when the interface has no IPv4, never a link-local one', () => {
    assert.equal(interfaceAddress({ net1: [v6('fe80::9'), v6('fd00:78::12')] }, 'net1'), 'fd00:78::12');
    assert.throws(() => interfaceAddress({ net1: [v6('fe80::9')] }, 'net1'), {
      message: /net1: has no IPv4 or global IPv6 address \(fe80::9\)/,
    });
  });

  it('fails clearly when the pod was not attached to the secondary network, listing the interfaces it has', () => {
    assert.throws(
      () => advertisedHost({ secondaryInterface: 'net1', podIp: '10.244.1.7', memberHost: 'h', interfaces: POD }),
      {
        message:
          /secondary interface net1: not in this pod \(interfaces: eth0, lo\); attach the pod to the network \(networks\.secondary\.enabled\) or unset GALERA_SECONDARY_INTERFACE/,
      },
    );
  });

  it('builds wsrep_cluster_address from the addresses peers reported, the DNS name for those that did not', () => {
    const members = [0, 1, 2].map((i) => ({ name: `db-${i}`, host: `db-${i}.h`, galeraPort: 4567 }));
    const reported = new Map<string, string | undefined>([
      ['db-0', '10.78.0.10'],
      ['db-1', undefined],
      ['db-2', 'fd00::2'],
    ]);
    assert.equal(clusterAddress(members, reported), 'gcomm://10.78.0.10:4567,db-1.h:4567,[fd00::2]:4567');
    assert.equal(hostPort('[fd00::2]', 1), '[fd00::2]:1');
  });

  it(
    'on a secondary network leaves out peers that did not report, ' +
      'never their DNS name (which would put Galera on eth0)',
    () => {
      const members = [0, 1, 2].map((i) => ({ name: `db-${i}`, host: `db-${i}.h`, galeraPort: 4567 }));
      const reported = new Map<string, string | undefined>([
        ['db-0', '10.78.0.10'],
        ['db-1', undefined],
        ['db-2', '10.78.0.12'],
      ]);
      assert.equal(
        clusterAddress(members, reported, { onlyReported: true }),
        'gcomm://10.78.0.10:4567,10.78.0.12:4567',
      );
      // A bootstrapper whose peers are all silent lists only itself.
      assert.equal(
        clusterAddress(members, new Map([['db-1', '10.78.0.11']]), { onlyReported: true }),
        'gcomm://10.78.0.11:4567',
      );
    },
  );

  it("reads a peer's reported address from /state, ignoring one that is not an address", () => {
    const base = {
      name: 'db-1',
      ordinal: 1,
      phase: 'waiting',
      hasData: true,
      position: null,
      safeToBootstrap: false,
      wsrep: null,
      plan: '',
    };
    assert.equal(parseReport({ ...base, address: '10.78.0.11' })?.address, '10.78.0.11');
    assert.equal(parseReport({ ...base, address: '10.0.0.1,evil:1' })?.address, undefined);
    assert.equal(parseReport(base)?.address, undefined, 'older agents do not report one');
    assert.equal(parseReport({ ...base, syncedForMs: 61_000 })?.syncedForMs, 61_000);
    assert.equal(parseReport({ ...base, syncedForMs: -1 })?.syncedForMs, undefined, 'a negative duration is ignored');
  });
});
