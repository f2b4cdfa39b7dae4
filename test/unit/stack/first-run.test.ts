import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planGoBuilds } from '../../../src/setup/go-build.js';
import { goComponents } from '../../../src/setup/go-components.js';
import { firstRunLanes, imagesByLane, localStackGoComponents } from '../../../src/stack/up.js';

describe('what a first `up` builds', () => {
  it('builds what the cluster and its images run, and no operator tools', () => {
    const names = localStackGoComponents();
    for (const n of [
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kubelet',
      'kube-proxy',
      'kube-router',
      'coredns',
      'pause',
      'multinet',
      'multinet-policy',
      'whereabouts',
      'minio',
    ]) {
      assert.ok(names.includes(n as never), `${n} is built`);
    }
    assert.ok(!names.includes('etcdctl'), "etcdctl is for operators (kstack setup), not on up's path");
    // Seven modules, so seven go build runs instead of one per binary.
    assert.equal(planGoBuilds(names, goComponents).length, 7);
  });

  it('builds the images with a Debian root filesystem alongside the compile, the Go-binary images after it', () => {
    assert.deepEqual(imagesByLane(['pause', 'coredns', 'nginx', 'node', 'mariadb', 'monitoring']), {
      afterCompile: ['pause', 'coredns'],
      alongside: ['nginx', 'node', 'mariadb', 'monitoring'],
    });
    const lanes = firstRunLanes(['pause', 'nginx']);
    assert.deepEqual(
      lanes.map((l) => [l.name, l.tasks.length]),
      [
        ['Go', 2],
        ['images', 3],
      ],
    );
  });
});
