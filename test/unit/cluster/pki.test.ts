import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { certificatePlan, extensionsFor, subjectFor } from '../../../src/cluster/pki.js';

describe('certificate plan', () => {
  const plan = certificatePlan({ apiServiceIP: '10.96.0.1', extraApiIPs: ['10.77.0.1'] });
  const byName = new Map(plan.map((c) => [c.name, c]));

  it('puts every CA before the certificates it signs', () => {
    plan.forEach((spec, i) => {
      if (!spec.signer) return;
      const signerIndex = plan.findIndex((c) => c.name === spec.signer);
      assert.ok(signerIndex >= 0 && signerIndex < i, `${spec.name} is signed by ${spec.signer}, which must come first`);
      assert.equal(byName.get(spec.signer)?.isCA, true);
    });
  });

  it("keeps etcd behind its own CA: only the API server's etcd client is signed by it", () => {
    const etcdSigned = plan
      .filter((c) => c.signer === 'etcd-ca')
      .map((c) => c.name)
      .sort();
    assert.deepEqual(etcdSigned, ['apiserver-etcd-client', 'etcd-server']);
  });

  it('makes the API server certificate valid for every name pods and users use', () => {
    const ext = extensionsFor(byName.get('apiserver')!);
    for (const san of [
      'DNS:kubernetes.default.svc.cluster.local',
      'DNS:localhost',
      'IP:127.0.0.1',
      'IP:10.96.0.1',
      'IP:10.77.0.1',
    ]) {
      assert.ok(ext.includes(san), `missing ${san} in ${ext}`);
    }
    assert.match(ext, /extendedKeyUsage=serverAuth\n/);
    assert.match(ext, /basicConstraints=critical,CA:FALSE/);
  });

  it('gives admin the system:masters group and components their RBAC user names', () => {
    assert.equal(subjectFor(byName.get('admin')!), '/O=system:masters/CN=kstack-admin');
    assert.equal(subjectFor(byName.get('controller-manager')!), '/CN=system:kube-controller-manager');
    assert.equal(subjectFor(byName.get('scheduler')!), '/CN=system:kube-scheduler');
    assert.match(extensionsFor(byName.get('admin')!), /extendedKeyUsage=clientAuth\n/);
  });

  it('marks CAs as CAs and nothing else', () => {
    for (const spec of plan) {
      const ext = extensionsFor(spec);
      assert.equal(ext.includes('CA:TRUE'), spec.isCA === true, spec.name);
    }
  });

  it('escapes slashes in subjects so a name cannot inject a field', () => {
    assert.equal(subjectFor({ name: 'x', commonName: 'a/O=evil', usage: [], days: 1 }), '/CN=a\\/O=evil');
  });
});
