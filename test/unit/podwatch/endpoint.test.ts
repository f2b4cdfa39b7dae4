import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointFromKubeconfigText, inClusterEndpoint } from '../../../src/podwatch/endpoint.js';
import { UserError } from '../../../src/util/errors.js';

const kubeconfig = (user: string): string => `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: u}
clusters:
- name: k
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ${Buffer.from('CA').toString('base64')}
    tls-server-name: kubernetes
users:
- name: u
  user:
${user}`;

describe('endpointFromKubeconfigText', () => {
  it('reads server, CA, client certificate files (relative to the kubeconfig) and server name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-kc-'));
    try {
      writeFileSync(join(dir, 'client.crt'), 'CERT');
      writeFileSync(join(dir, 'client.key'), 'KEY');
      const ep = endpointFromKubeconfigText(
        kubeconfig('    client-certificate: client.crt\n    client-key: client.key\n'),
        join(dir, 'config'),
      );
      assert.ok(ep);
      assert.equal(ep.server, 'https://127.0.0.1:6443');
      assert.equal(ep.tls.ca?.toString(), 'CA');
      assert.equal(ep.tls.cert?.toString(), 'CERT');
      assert.equal(ep.tls.key?.toString(), 'KEY');
      assert.equal(ep.tls.servername, 'kubernetes');
      assert.deepEqual(await ep.headers(), {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends a bearer token', async () => {
    const ep = endpointFromKubeconfigText(kubeconfig('    token: abc\n'), '/x/config');
    assert.deepEqual(await ep?.headers(), { authorization: 'Bearer abc' });
  });

  it('leaves exec plugins and auth providers to client-node', () => {
    assert.equal(
      endpointFromKubeconfigText(
        kubeconfig('    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}\n'),
        '/x/config',
      ),
      undefined,
    );
    assert.equal(endpointFromKubeconfigText(kubeconfig('    auth-provider: {name: oidc}\n'), '/x/config'), undefined);
  });

  it('names what is missing', () => {
    assert.throws(
      () => endpointFromKubeconfigText('apiVersion: v1\n', '/x/config'),
      (e: unknown) => e instanceof UserError && /no current-context/.test(e.message),
    );
    assert.throws(
      () => endpointFromKubeconfigText('current-context: nope\ncontexts: []\n', '/x/config'),
      (e: unknown) => e instanceof UserError && /context 'nope' is not defined/.test(e.message),
    );
  });
});

describe('inClusterEndpoint', () => {
  it('uses the service account token (re-read each time) and CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-sa-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), 'CA');
      writeFileSync(join(dir, 'token'), 'one\n');
      const ep = inClusterEndpoint({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir);
      assert.equal(ep.server, 'https://10.96.0.1:443');
      assert.deepEqual(await ep.headers(), { authorization: 'Bearer one' });
      writeFileSync(join(dir, 'token'), 'two');
      assert.deepEqual(await ep.headers(), { authorization: 'Bearer two' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains when it is not running in a pod', () => {
    assert.throws(
      () => inClusterEndpoint({}, '/nonexistent'),
      (e: unknown) => e instanceof UserError && /not a pod/.test(e.message),
    );
  });
});
