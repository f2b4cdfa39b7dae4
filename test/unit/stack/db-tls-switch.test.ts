// Which agent configs turn TLS on: `kstack up` restarts the members together when that changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentTlsOf } from '../../../src/stack/db-tls-switch.js';
import { helmTemplate } from '../../../src/chart/helm.js';
import { configMapData, one, parseManifests } from '../../../src/chart/manifests.js';

describe('db TLS switch', () => {
  it("reads TLS from the chart's own agent.json, on and off", async () => {
    const agentJson = async (enabled: boolean): Promise<string | undefined> =>
      configMapData(
        one(parseManifests(await helmTemplate({ values: { db: { tls: { enabled } } } })), 'ConfigMap', 'db'),
      )['agent.json'];
    assert.equal(agentTlsOf(await agentJson(true)), true);
    assert.equal(agentTlsOf(await agentJson(false)), false);
  });

  it('knows nothing from no config or an unreadable one', () => {
    assert.equal(agentTlsOf(undefined), undefined);
    assert.equal(agentTlsOf('{not json'), undefined);
    assert.equal(agentTlsOf('{"tls":null}'), false);
  });
});
