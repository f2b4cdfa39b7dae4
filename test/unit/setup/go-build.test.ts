import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { goBuildArgs, goExecName, inSequence, planGoBuilds } from '../../../src/setup/go-build.js';
import { goComponents, type GoComponent } from '../../../src/setup/go-components.js';

describe('combined go builds', () => {
  it('names executables the way go build -o dir/ does', () => {
    assert.equal(goExecName('go.etcd.io/etcd/server/v3'), 'server');
    assert.equal(goExecName('go.etcd.io/etcd/etcdctl/v3'), 'etcdctl');
    assert.equal(goExecName('github.com/k8snetworkplumbingwg/whereabouts/cmd'), 'cmd');
    assert.equal(goExecName('github.com/cloudnativelabs/kube-router/v2/cmd/kube-router'), 'kube-router');
    assert.equal(goExecName('k8s.io/kubernetes/cmd/kube-apiserver'), 'kube-apiserver');
    assert.equal(goExecName('github.com/minio/minio'), 'minio');
    // v0 and v1 are not major-version suffixes; v10 is.
    assert.equal(goExecName('example.com/tool/v1'), 'v1');
    assert.equal(goExecName('example.com/tool/v10'), 'tool');
    assert.equal(goExecName('v2'), 'v2');
  });

  it('builds every component of one module in one run, in the order modules first appear', () => {
    const plans = planGoBuilds(
      ['etcd', 'kube-apiserver', 'pause', 'kubelet', 'multinet', 'multinet-policy', 'kube-proxy', 'whereabouts'],
      goComponents,
    );
    assert.deepEqual(
      plans.map((p) => [p.module, [...p.outputs]]),
      [
        [
          'kubernetes',
          [
            ['server', 'etcd'],
            ['kube-apiserver', 'kube-apiserver'],
            ['kubelet', 'kubelet'],
            ['kube-proxy', 'kube-proxy'],
          ],
        ],
        ['pause', [['pause', 'pause']]],
        [
          'multinet',
          [
            ['multinet', 'multinet'],
            ['multinet-policy', 'multinet-policy'],
          ],
        ],
        ['whereabouts', [['cmd', 'whereabouts']]],
      ],
    );
  });

  it('gives every known component a distinct executable name within its module', () => {
    const all = Object.keys(goComponents) as (keyof typeof goComponents)[];
    const plans = planGoBuilds(all, goComponents);
    assert.equal(plans.length, new Set(all.map((n) => goComponents[n].module)).size, 'one run per module');
    assert.equal(
      plans.reduce((sum, p) => sum + p.outputs.size, 0),
      all.length,
    );
  });

  it('splits a module into two runs only where two packages share an executable name', () => {
    const components: Record<'a' | 'b' | 'c', GoComponent> = {
      a: { name: 'a', module: 'm', pkg: 'example.com/one/cmd', kubernetesVersionStamp: false },
      b: { name: 'b', module: 'm', pkg: 'example.com/two/cmd', kubernetesVersionStamp: false },
      c: { name: 'c', module: 'm', pkg: 'example.com/three', kubernetesVersionStamp: false },
    };
    const plans = planGoBuilds(['a', 'b', 'c', 'a'], components);
    assert.deepEqual(
      plans.map((p) => [...p.outputs.values()]),
      [['a', 'c'], ['b']],
    );
  });

  it('stamps the Kubernetes version only into the Kubernetes components of a combined run', () => {
    const [plan] = planGoBuilds(['etcd', 'kube-apiserver'], goComponents);
    assert.ok(plan);
    const args = goBuildArgs(plan, goComponents, 'v1.35.4', '/tmp/out');
    assert.deepEqual(args.slice(0, 4), ['build', '-v', '-trimpath', '-ldflags=-s -w']);
    const stamped = args.filter((a) => a.startsWith('-ldflags=k8s.io/'));
    assert.equal(stamped.length, 1);
    assert.match(
      stamped[0] ?? '',
      /^-ldflags=k8s\.io\/kubernetes\/cmd\/kube-apiserver=-s -w -X k8s\.io\/component-base\/version\.gitVersion=v1\.35\.4 /,
    );
    assert.ok(
      !args.some((a) => a.startsWith('-ldflags=go.etcd.io')),
      'etcd is linked as a build of its own would link it',
    );
    assert.deepEqual(args.slice(-3), [
      '/tmp/out/',
      'go.etcd.io/etcd/server/v3',
      'k8s.io/kubernetes/cmd/kube-apiserver',
    ]);
  });

  it('runs queued tasks one at a time, in order, and starts no more after stop', async () => {
    const started: number[] = [];
    const release: (() => void)[] = [];
    const { queued, stop } = inSequence([1, 2, 3], (n) => {
      started.push(n);
      return new Promise<number>((resolve) => {
        release.push(() => {
          resolve(n * 10);
        });
      });
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [1]);
    release[0]?.();
    assert.equal(await queued[0]?.result, 10);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [1, 2]);
    stop();
    release[1]?.();
    assert.equal(await queued[1]?.result, 20);
    await assert.rejects(queued[2]?.result ?? Promise.resolve(), /stopped/);
    assert.deepEqual(started, [1, 2]);
  });

  it('keeps going after a failed task and leaves no unhandled rejection', async () => {
    const { queued } = inSequence(['bad', 'good'], (s) =>
      s === 'bad' ? Promise.reject(new Error('no network')) : Promise.resolve(s),
    );
    assert.equal(await queued[1]?.result, 'good');
    await assert.rejects(queued[0]?.result ?? Promise.resolve(), /no network/);
  });
});
