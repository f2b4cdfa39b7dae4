// The wakeup a watch feeds to a host daemon's reconcile loop (pure state and timers), and the delay before
// a watch that keeps failing is re-opened. The watch itself runs against a real API server wherever the
// load balancer and the provisioner do (integration and e2e).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { reopenDelayMs, Wakeup } from '../../../src/kube/change-watch.js';

describe('Wakeup', () => {
  it('take() is true once per burst of changes, false when nothing changed', () => {
    const w = new Wakeup();
    assert.equal(w.take(), false);
    w.notify();
    w.notify();
    assert.equal(w.take(), true);
    assert.equal(w.take(), false);
  });

  it('wait() returns at once for a change that came before it, and consumes it', async () => {
    const w = new Wakeup();
    w.notify();
    assert.equal(await w.wait(60_000, new AbortController().signal), 'changed');
    assert.equal(w.take(), false);
  });

  it('wait() returns on a change that comes while it waits, well before its limit', async () => {
    const w = new Wakeup();
    setTimeout(() => {
      w.notify();
    }, 10);
    assert.equal(await w.wait(60_000, new AbortController().signal), 'changed');
    assert.equal(w.take(), false, 'the change that woke the wait is consumed');
  });

  it('wait() times out without a change, and a later change is not lost', async () => {
    const w = new Wakeup();
    assert.equal(await w.wait(5, new AbortController().signal), 'timeout');
    w.notify();
    assert.equal(w.take(), true);
  });

  it('wait() ends on abort', async () => {
    const w = new Wakeup();
    const stop = new AbortController();
    setTimeout(() => {
      stop.abort();
    }, 10);
    assert.equal(await w.wait(60_000, stop.signal), 'timeout');
  });
});

describe('reopenDelayMs', () => {
  it('is 1 s after a watch that ended normally or failed once, doubles while it fails, and stops at 30 s', () => {
    assert.deepEqual([0, 1, 2, 3, 5, 6, 20].map(reopenDelayMs), [1000, 1000, 2000, 4000, 16_000, 30_000, 30_000]);
  });
});
