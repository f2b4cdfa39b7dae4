// The pure parts of test/helpers/helm-test.ts: which hooks are tests, and which tests ran this time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { helmTemplate } from '../../../src/chart/helm.js';
import { phasesOfRun, testHookPods } from '../../helpers/helm-test.js';

describe('helm-test helper', () => {
  it("finds the chart's test pods in helm's run order", async () => {
    const rendered = await helmTemplate({ release: 'ws', namespace: 'shop' });
    assert.deepEqual(testHookPods(rendered), [
      'ws-webstack-test-page',
      'ws-webstack-test-db',
      'ws-webstack-test-db-closed',
    ]);
    assert.deepEqual(
      testHookPods(
        'kind: Pod\nmetadata: {name: x, annotations: {helm.sh/hook: pre-install}}\n---\nkind: ' +
          'Job\nmetadata: {name: y, annotations: {helm.sh/hook: test}}\n',
      ),
      [],
    );
  });

  it('reports a pod left from an earlier run as NotRun, never with its old phase', () => {
    const before = new Map([
      ['page', { uid: 'u1', phase: 'Succeeded' }],
      ['db-closed', { uid: 'u3', phase: 'Succeeded' }],
    ]);
    const after = new Map([
      ['page', { uid: 'u4', phase: 'Succeeded' }],
      ['db', { uid: 'u5', phase: 'Failed' }],
      ['db-closed', { uid: 'u3', phase: 'Succeeded' }],
    ]);
    assert.deepEqual(
      [...phasesOfRun(['page', 'db', 'db-closed', 'gone'], before, after)],
      [
        ['page', 'Succeeded'],
        ['db', 'Failed'],
        ['db-closed', 'NotRun'],
        ['gone', 'NotRun'],
      ],
    );
  });
});
