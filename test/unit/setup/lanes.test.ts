import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeLanes, laneSummary, runLanes, type LaneState } from '../../../src/setup/lanes.js';
import type { Progress } from '../../../src/util/progress.js';

/** A Progress that records what the lanes' parent step showed. */
function recorder(): { progress: Progress; details: string[]; infos: string[]; steps: string[] } {
  const details: string[] = [];
  const infos: string[] = [];
  const steps: string[] = [];
  return {
    details,
    infos,
    steps,
    progress: {
      info(text) {
        infos.push(text);
      },
      async step(title, work) {
        steps.push(`▸ ${title}`);
        try {
          const r = await work({
            detail(t) {
              details.push(t);
            },
          });
          steps.push(`✓ ${title}`);
          return r;
        } catch (err) {
          steps.push(`✗ ${title}`);
          throw err;
        }
      },
    },
  };
}

const deferred = (): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } => {
  let resolve = (): void => undefined;
  let reject = (_e: Error): void => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('lanes', () => {
  it('runs lanes side by side and tasks within a lane in order', async () => {
    const events: string[] = [];
    const compile = deferred();
    const rec = recorder();
    const done = runLanes(
      'prepare',
      [
        {
          name: 'Go',
          tasks: [
            (p) =>
              p.step('compile', async (s) => {
                events.push('compile start');
                s.detail('1/2 packages');
                await compile.promise;
                events.push('compile end');
              }),
          ],
        },
        {
          name: 'images',
          tasks: [
            (p) =>
              p.step('rootfs nginx', () => {
                events.push('nginx');
                return Promise.resolve();
              }),
            (p) =>
              p.step('rootfs mariadb', () => {
                events.push('mariadb');
                return Promise.resolve();
              }),
          ],
        },
      ],
      rec.progress,
      { width: 200, now: () => 0 },
    );
    await tick();
    assert.deepEqual(events, ['compile start', 'nginx', 'mariadb'], 'the image lane did not wait for the compile');
    assert.ok(
      rec.details.some((d) => d.includes('Go: compile: 1/2 packages') && d.includes('images: done')),
      rec.details.join('\n'),
    );
    compile.resolve();
    await done;
    assert.deepEqual(rec.steps, ['▸ prepare', '✓ prepare']);
    assert.deepEqual(rec.infos, [
      'Go:',
      '  ✓ compile (0ms)',
      'images:',
      '  ✓ rootfs nginx (0ms)',
      '  ✓ rootfs mariadb (0ms)',
    ]);
  });

  it(
    'stops the other lanes before their next task when one fails, ' + 'and throws the first failure after all settled',
    async () => {
      const rootfs = deferred();
      const ran: string[] = [];
      const rec = recorder();
      const done = runLanes(
        'prepare',
        [
          {
            name: 'Go',
            tasks: [
              async () => {
                await tick();
                throw new Error('no Go toolchain\nmore');
              },
            ],
          },
          {
            name: 'images',
            tasks: [
              (p) =>
                p.step('rootfs nginx', async () => {
                  ran.push('nginx');
                  await rootfs.promise;
                }),
              (p) =>
                p.step('rootfs mariadb', () => {
                  ran.push('mariadb');
                  return Promise.resolve();
                }),
            ],
          },
        ],
        rec.progress,
        { width: 200, now: () => 0 },
      );
      let settled = false;
      void done.catch(() => {
        settled = true;
      });
      await tick();
      await tick();
      assert.equal(settled, false, 'waits for the running root filesystem');
      assert.ok(
        rec.details.some((d) => d.includes('Go: failed: no Go toolchain (')),
        rec.details.join('\n'),
      );
      rootfs.resolve();
      await assert.rejects(done, /no Go toolchain/);
      assert.deepEqual(ran, ['nginx']);
      assert.deepEqual(rec.steps, ['▸ prepare', '✗ prepare']);
      assert.deepEqual(rec.infos, ['Go: nothing to do', 'images:', '  ✓ rootfs nginx (0ms)']);
    },
  );

  it('nests steps in the summary and marks the failed one', () => {
    const lane: LaneState = {
      name: 'images',
      status: 'failed',
      active: [],
      log: [
        { title: 'build image nginx', depth: 0, outcome: { ok: false, ms: 5 } },
        { title: 'Debian root filesystem', depth: 1, outcome: { ok: false, ms: 5 } },
      ],
    };
    assert.deepEqual(laneSummary([lane]), ['images:', '  ✗ build image nginx', '    ✗ Debian root filesystem']);
  });

  it('fits the status line into the width, each lane its share', () => {
    const lanes: LaneState[] = [
      {
        name: 'Go',
        status: 'running',
        active: [
          {
            title: 'build etcd, kube-apiserver, kube-controller-manager from source (tools/kubernetes)',
            detail: '812/2400 packages compiled',
          },
        ],
        log: [],
      },
      {
        name: 'images',
        status: 'running',
        active: [
          { title: 'build image kstack.local/mariadb:local', detail: '' },
          { title: 'Debian root filesystem with mariadb-server, galera-4', detail: 'downloading packages' },
        ],
        log: [],
      },
    ];
    const line = describeLanes(lanes, 100);
    assert.ok(line.length <= 100, line);
    const [go, images] = line.split(' │ ');
    assert.match(go ?? '', /^Go: build etcd.*…: 812\/2400 packages compiled$/);
    assert.match(images ?? '', /^images: Debian root files.*…: downloading packages$/);
    assert.equal(describeLanes([{ name: 'Go', status: 'running', active: [], log: [] }], 100), 'Go: starting');
  });
});
