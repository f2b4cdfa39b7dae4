import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterLayout } from '../../../../src/cluster/layout.js';
import {
  loadRegistryTrust,
  parseRegistryTrust,
  registryHostsToml,
} from '../../../../src/cluster/nodes/registry-trust.js';

describe('registry trust (cluster up --registry-ca)', () => {
  it('takes HOST[:PORT]=FILE and resolves the file', () => {
    assert.deepEqual(parseRegistryTrust('10.77.3.1:5000=ca.pem'), {
      host: '10.77.3.1:5000',
      caFile: join(process.cwd(), 'ca.pem'),
    });
    assert.equal(parseRegistryTrust('registry.example.test=/etc/ca.pem').host, 'registry.example.test');
  });

  for (const bad of ['ca.pem', '=ca.pem', '10.0.0.1:5000=', 'Reg.Example=ca.pem', 'host:99999=ca.pem', 'a/b=ca.pem']) {
    it(`refuses '${bad}' naming the flag and the form`, () => {
      assert.throws(() => parseRegistryTrust(bad), /--registry-ca '.*': use HOST\[:PORT\]=FILE/);
    });
  }

  it("writes containerd's hosts.toml: HTTPS to that host, verified with the CA", () => {
    const lines = registryHostsToml('10.77.3.1:5000', '/c/ca.crt')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(lines, [
      'server = "https://10.77.3.1:5000"',
      '[host."https://10.77.3.1:5000"]',
      'capabilities = ["pull", "resolve"]',
      'ca = "/c/ca.crt"',
    ]);
  });

  it('refuses a file that is not a PEM certificate before anything starts, and copies a good one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-trust-'));
    try {
      const bad = join(dir, 'bad.pem');
      writeFileSync(bad, 'hello');
      assert.throws(() => loadRegistryTrust({ host: 'r:5000', caFile: bad }), /not a PEM certificate/);
      assert.throws(() => loadRegistryTrust({ host: 'r:5000', caFile: join(dir, 'none') }), /cannot read the file/);
      const good = join(dir, 'ca.pem');
      writeFileSync(good, '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
      const written = loadRegistryTrust({ host: 'r:5000', caFile: good }).write(clusterLayout('demo', dir));
      assert.equal(written, join(dir, 'demo', 'registries', 'r:5000'));
      assert.match(readFileSync(join(written, 'hosts.toml'), 'utf8'), /ca = ".*r:5000\/ca\.crt"/);
      assert.equal(readFileSync(join(written, 'ca.crt'), 'utf8'), readFileSync(good, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
