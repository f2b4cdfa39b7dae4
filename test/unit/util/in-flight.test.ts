// InFlight: work asked for twice while it runs runs once; the key is free again once it settles.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InFlight } from '../../../src/util/in-flight.js';

describe('InFlight', () => {
  it('joins callers of a key while its work runs, and runs it anew afterwards', async () => {
    const builds = new InFlight<string>();
    let started = 0;
    let finish: (v: string) => void = () => undefined;
    const work = (): Promise<string> => {
      started++;
      return new Promise((resolve) => {
        finish = resolve;
      });
    };
    const a = builds.run('node', work);
    const b = builds.run('node', work);
    assert.equal(a, b, 'the second caller gets the first run');
    assert.equal(started, 1);
    finish('built');
    assert.deepEqual(await Promise.all([a, b]), ['built', 'built']);
    const c = builds.run('node', work);
    assert.equal(started, 2, 'a settled key runs again');
    finish('again');
    assert.equal(await c, 'again');
  });

  it('keeps keys apart, and frees a key whose work failed', async () => {
    const builds = new InFlight<number>();
    const failed = builds.run('a', () => Promise.reject(new Error('no space')));
    assert.equal(await builds.run('b', () => Promise.resolve(2)), 2);
    await assert.rejects(failed, /no space/);
    assert.equal(await builds.run('a', () => Promise.resolve(1)), 1);
  });
});
