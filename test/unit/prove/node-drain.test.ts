import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { drainArgs } from '../../../src/prove/requirements/node-drain.js';

describe('R11 on a cluster kstack did not make: cordon and drain', () => {
  it('drains through evictions (PodDisruptionBudgets hold), keeps DaemonSets, drops emptyDir data, bounded', () => {
    const args = drainArgs('db-1');
    assert.deepEqual(args.slice(0, 2), ['drain', 'db-1']);
    assert.ok(args.includes('--ignore-daemonsets'));
    assert.ok(args.includes('--delete-emptydir-data'));
    assert.ok(args.some((a) => /^--timeout=\d+s$/.test(a)));
    // prove's own bare pods (the client, the probes) are left alone; any other bare pod stops the drain.
    assert.ok(args.includes('--pod-selector=app.kubernetes.io/managed-by!=kstack-prove'));
    // --disable-eviction would delete pods past their budgets: never.
    assert.ok(!args.some((a) => a.startsWith('--disable-eviction') || a === '--force'));
  });
});
