// Pure helpers of src/chart: manifest parsing and the loopback rewrite of the site config.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configMapData, one, parseManifests } from '../../../src/chart/manifests.js';
import { bindListenTo, initContainerEnv } from '../../helpers/web-local.js';

describe('chart helpers', () => {
  it('parses a multi-document stream, skipping empty documents', () => {
    const objs = parseManifests(
      '---\n# Source: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ' +
        'a-web}\ndata: {k: v}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a-web}\n',
    );
    assert.deepEqual(
      objs.map((o) => o.kind),
      ['ConfigMap', 'Service'],
    );
    assert.deepEqual(configMapData(one(objs, 'ConfigMap', 'web')), { k: 'v' });
    assert.throws(
      () => one(objs, 'Deployment'),
      /expected one Deployment, found 0 \(rendered: ConfigMap\/a-web, Service\/a-web\)/,
    );
    assert.throws(() => configMapData(one(objs, 'Service')), /is not a ConfigMap/);
  });

  it('names a document that is not a Kubernetes object or not YAML', () => {
    assert.throws(() => parseManifests('apiVersion: v1\nkind: X\n'), /document 1 is not a Kubernetes object/);
    assert.throws(() => parseManifests('a: [\n'), /document 1 is not valid YAML/);
  });

  it('binds every listen directive to loopback, and refuses a config without one', () => {
    const conf = 'server {\n    listen 8080 default_server;\n}\nserver {\n  listen 9000;\n}\n';
    assert.equal(
      bindListenTo(conf, '127.0.0.1'),
      'server {\n    listen 127.0.0.1:8080 default_server;\n}\nserver {\n  listen 127.0.0.1:9000;\n}\n',
    );
    assert.throws(() => bindListenTo('server { }', '127.0.0.1'), /no "listen <port>" directive/);
  });

  it('takes the literal env of the render-page init container, leaving the folders to the caller', () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'w' },
      spec: {
        template: {
          spec: {
            initContainers: [
              {
                name: 'render-page',
                env: [
                  { name: 'PAGE_TITLE', value: 'T' },
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  { name: 'PAGE_OUTPUT_DIR', value: '/x' },
                ],
              },
            ],
          },
        },
      },
    };
    assert.deepEqual(initContainerEnv(d), { PAGE_TITLE: 'T' });
    assert.throws(() => initContainerEnv({ ...d, spec: {} }), /no render-page init container/);
  });
});
