// What the e2e files that bring up their own local cluster share: a cluster in a temporary folder,
// brought up before the file's tests and removed (with the folder) after them, kubectl against it, and
// the check that a removed cluster left nothing behind on the host.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPlaneDown, controlPlaneUp, type UpResult } from '../../src/cluster/control-plane.js';
import { clusterLayout } from '../../src/cluster/layout.js';
import { defaultNodeSettings, networkPlanFor } from '../../src/cluster/nodes/cluster-nodes.js';
import { cgroupHierarchies, mountsBelow } from '../../src/cluster/nodes/host-resources.js';
import { cgroupRootName } from '../../src/cluster/nodes/nodes.js';
import { processesMentioning } from '../../src/util/process.js';
import { ensureKubectlAndHelm } from '../../src/setup/kubectl-layer.js';
import { run } from '../../src/util/exec.js';
import type { Progress } from '../../src/util/progress.js';
import { e2eCluster, type E2eClusterRef } from './e2e-cluster.js';

export class LocalTestCluster {
  readonly name: string;
  readonly baseDir: string;
  /** The cluster is the e2e group's (test/helpers/e2e-cluster.ts): `remove` leaves it to the runner. */
  readonly shared: boolean;
  private readonly ref: E2eClusterRef;
  private current: UpResult | undefined;
  private kubectlPath = '';

  /** `ownName` is used when the file runs alone; in a group run the group's cluster is used. */
  constructor(
    ownName: string,
    private readonly progress: Progress,
  ) {
    this.ref = e2eCluster(ownName);
    this.name = this.ref.name;
    this.baseDir = this.ref.baseDir;
    this.shared = this.ref.shared;
  }

  /** The last `up` (or node restart) result; a test that brings the cluster up again passes it to `use`. */
  get up(): UpResult {
    if (!this.current) throw new Error(`cluster '${this.name}' is read before it was brought up`);
    return this.current;
  }

  get kubectlBin(): string {
    return this.kubectlPath;
  }

  /**
   * `cluster up` with 3 nodes (web-1, db-1, db-2; again after a `down`, or to restart what was stopped): the
   * cluster-level files need no more, and the nodes group runs beside the stack group's 5 nodes on 2 cores.
   */
  async start(): Promise<UpResult> {
    this.kubectlPath ||= (await ensureKubectlAndHelm(this.progress)).kubectl;
    return this.use(
      await controlPlaneUp({
        name: this.name,
        baseDir: this.baseDir,
        nodes: defaultNodeSettings(3),
        progress: this.progress,
      }),
    );
  }

  use(up: UpResult): UpResult {
    this.current = up;
    return up;
  }

  /** kubectl against the cluster; throws with stderr on a non-zero exit. */
  async kubectl(args: string[], input?: string): Promise<string> {
    return (
      await run(this.kubectlPath, ['--kubeconfig', this.up.kubeconfig, ...args], input !== undefined ? { input } : {})
    ).stdout;
  }

  async json<T>(args: string[]): Promise<T> {
    return JSON.parse(await this.kubectl([...args, '-o', 'json'])) as T;
  }

  /**
   * An own cluster: `cluster down` and the temporary folder removed. A shared one: only `namespaces` (what
   * the file added) deleted, so the next file of the group finds a clean cluster. Never throws (it runs in
   * `after`).
   */
  async remove(namespaces: readonly string[] = []): Promise<void> {
    if (this.shared) {
      if (namespaces.length && this.current) {
        await this.kubectl([
          'delete',
          'namespace',
          '--ignore-not-found',
          '--wait=true',
          '--timeout=120s',
          ...namespaces,
        ]).catch(() => undefined);
      }
      return;
    }
    await controlPlaneDown({ name: this.name, baseDir: this.baseDir, progress: this.progress }).catch(() => undefined);
    this.ref.removeFolder();
  }
}

/**
 * A LocalTestCluster brought up in the calling describe's `before`
 * and removed (or, shared, cleaned of `namespaces`) in its `after`.
 */
export function useLocalCluster(
  name: string,
  progress: Progress,
  namespaces: readonly string[] = [],
): LocalTestCluster {
  const cluster = new LocalTestCluster(name, progress);
  before(() => cluster.start());
  after(() => cluster.remove(namespaces));
  return cluster;
}

/**
 * After `down`: nothing of cluster `name` is left on the host — its folder, processes (kept port-forwards
 * and the local S3 server included: they name files in the folder), mounts, network namespaces, bridge,
 * veths, host iptables rules and cgroups.
 */
export async function assertNothingLeft(name: string, baseDir?: string): Promise<void> {
  const root = clusterLayout(name, baseDir).root;
  const net = networkPlanFor(name, defaultNodeSettings());
  assert.equal(existsSync(root), false, 'cluster folder removed');
  assert.deepEqual(processesMentioning(`${root}/`), [], 'no process of the cluster remains');
  assert.deepEqual(mountsBelow(root), [], 'no mount remains');
  const netns = (await run('ip', ['netns', 'list'])).stdout;
  for (const node of net.nodes) assert.ok(!netns.includes(node.netns), `netns ${node.netns} removed`);
  const links = (await run('ip', ['-br', 'link'])).stdout;
  assert.ok(!links.includes(net.bridge), 'bridge removed');
  for (const node of net.nodes) assert.ok(!links.includes(node.hostVeth), `veth ${node.hostVeth} removed`);
  const rules = (await run('iptables', ['-t', 'nat', '-S'])).stdout + (await run('iptables', ['-S'])).stdout;
  assert.ok(!rules.includes(`kstack:${name}`), 'host iptables rules removed');
  for (const h of cgroupHierarchies())
    for (const node of net.nodes)
      assert.ok(!existsSync(join(h, cgroupRootName(name, node.name))), `cgroup removed in ${h}`);
  assert.ok(
    !readFileSync('/proc/self/mountinfo', 'utf8').includes(`/run/netns/kstack-${name}-`),
    'no netns mount remains',
  );
}
