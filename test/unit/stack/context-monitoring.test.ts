import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { imageRef, monitoringImagesFromTexts } from '../../../src/stack/context-monitoring.js';
import { monitoringObjects, DEFAULT_MONITORING } from '../../../src/monitoring/manifests.js';

const pushed = `# kstack monitoring image: 10.77.3.1:5000/kstack/monitoring@sha256:${'a'.repeat(64)}
global:
  imagePullSecrets: [kstack-registry]
webinfo:
  image:
    repository: 10.77.3.1:5000/kstack/node
    tag: k1
    digest: sha256:${'b'.repeat(64)}
    pullPolicy: IfNotPresent
`;

describe("kstack's monitoring on another cluster (up --context --with-monitoring)", () => {
  it('names an image by digest when there is one, else by tag', () => {
    assert.equal(imageRef({ repository: 'r/x', tag: 't', digest: 'sha256:1' }), 'r/x@sha256:1');
    assert.equal(imageRef({ repository: 'r/x', tag: 't' }), 'r/x:t');
    assert.equal(imageRef({ repository: 'r/x' }), undefined);
  });

  it("takes the images and pull Secrets from the file 'kstack images push' wrote", () => {
    assert.deepEqual(monitoringImagesFromTexts(['placement: {preset: ha}\n', pushed]), {
      controller: `10.77.3.1:5000/kstack/node@sha256:${'b'.repeat(64)}`,
      monitoring: `10.77.3.1:5000/kstack/monitoring@sha256:${'a'.repeat(64)}`,
      pullPolicy: 'IfNotPresent',
      pullSecrets: ['kstack-registry'],
    });
  });

  it('is incomplete without the monitoring comment or without webinfo.image', () => {
    assert.equal(monitoringImagesFromTexts([pushed.replace(/^# kstack monitoring image.*\n/, '')]), undefined);
    assert.equal(monitoringImagesFromTexts(['# kstack monitoring image: r/m:1\n']), undefined);
  });

  it('the pod pulls those images with the pull Secrets; the local default stays side-loaded (Never)', () => {
    const deployment = (objects: object[]): Record<string, unknown> =>
      objects.find((o) => (o as { kind: string }).kind === 'Deployment') as Record<string, unknown>;
    const podOf = (
      d: Record<string, unknown>,
    ): { imagePullSecrets?: unknown; containers: { image: string; imagePullPolicy: string }[] } =>
      (d as { spec: { template: { spec: never } } }).spec.template.spec;
    const images = monitoringImagesFromTexts([pushed]);
    assert.ok(images);
    const remote = podOf(deployment(monitoringObjects({ ...DEFAULT_MONITORING, images })));
    assert.deepEqual(remote.imagePullSecrets, [{ name: 'kstack-registry' }]);
    assert.deepEqual(
      remote.containers.map((c) => `${c.image} ${c.imagePullPolicy}`),
      [images.controller, images.monitoring, images.monitoring].map((i) => `${i} IfNotPresent`),
    );
    const local = podOf(deployment(monitoringObjects(DEFAULT_MONITORING)));
    assert.equal(local.imagePullSecrets, undefined);
    assert.ok(local.containers.every((c) => c.imagePullPolicy === 'Never' && c.image.startsWith('kstack.local/')));
  });
});
