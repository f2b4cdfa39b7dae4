// The real control plane the integration tests talk to: the one the test runner started, or (when a
// test file is run on its own) one started here for this file and removed after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { controlPlaneDown, controlPlaneUp } from '../../src/cluster/control-plane.js';
import { Kube } from '../../src/kube/kube.js';
import { ensureKubectlAndHelm } from '../../src/setup/kubectl-layer.js';
import { run, type RunResult } from '../../src/util/exec.js';
import { silentProgress } from '../../src/util/progress.js';
import { TEST_ENV } from './env.js';

export interface TestCluster {
  kubeconfigPath: string;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  /** Runs the real kubectl against this cluster. */
  kubectl(args: string[], opts?: { input?: string; allowFailure?: boolean }): Promise<RunResult>;
  /** kubectl and helm against this cluster in one namespace (helm releases: src/kube/helm-release.ts). */
  kube(namespace: string): Kube;
}

let shared: Promise<TestCluster> | undefined;

async function connect(kubeconfigPath: string): Promise<TestCluster> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const { kubectl, helm } = await ensureKubectlAndHelm(silentProgress);
  const selectCluster = ['--kubeconfig', kubeconfigPath];
  return {
    kubeconfigPath,
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    kubectl: (args, opts = {}) => run(kubectl, [...selectCluster, ...args], opts),
    kube: (namespace) => new Kube({ kubectl, helm, kubeArgs: selectCluster, helmArgs: selectCluster, namespace }),
  };
}

export function testCluster(): Promise<TestCluster> {
  shared ??= (async () => {
    const fromRunner = process.env[TEST_ENV.kubeconfig];
    if (fromRunner) return connect(fromRunner);
    const baseDir = mkdtempSync(join(tmpdir(), 'kstack-test-'));
    // Hooks registered from inside a test belong to that test; the process ending is the file ending.
    process.once('beforeExit', () => {
      void controlPlaneDown({ name: 'solo', baseDir, progress: silentProgress }).finally(() => {
        rmSync(baseDir, { recursive: true, force: true });
      });
    });
    const cp = await controlPlaneUp({ name: 'solo', baseDir, progress: silentProgress });
    return connect(cp.kubeconfig);
  })();
  return shared;
}

/** Fresh namespaces for tests; `cleanup` (call it from a describe-level `after`) deletes them. */
export class TestNamespaces {
  private readonly created: string[] = [];
  constructor(private readonly cluster: TestCluster) {}

  /**
   * A new namespace, returned once its `default` ServiceAccount exists (pods, even dry-run ones, are
   * refused until then). `restricted` labels it to enforce Pod Security "restricted".
   */
  async create(prefix: string, opts: { restricted?: boolean } = {}): Promise<string> {
    const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
    const labels = opts.restricted
      ? { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' }
      : undefined;
    await this.cluster.core.createNamespace({ body: { metadata: { name, ...(labels ? { labels } : {}) } } });
    this.created.push(name);
    await eventually(
      `the default ServiceAccount in ${name}`,
      async () =>
        (await this.cluster.core.readNamespacedServiceAccount({ name: 'default', namespace: name })).metadata?.name,
      60_000,
    );
    return name;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.created.map((name) => this.cluster.core.deleteNamespace({ name }).catch(() => undefined)));
  }
}

/** The message of a Kubernetes API error (the Status object's message), for assertions and reports. */
export function apiErrorMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      // not JSON: fall through
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting ` +
      `for ${what}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`,
  );
}
