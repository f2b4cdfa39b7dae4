// `kstack up`: the whole stack in one command — the local cluster (or an existing one), the images, the
// chart installed, waited for with progress, and the page and podwatch reachable from this host.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { webstackChartDir } from '../chart/helm.js';
import {
  controlPlaneDown,
  controlPlaneStatus,
  controlPlaneUp,
  DEFAULT_CLUSTER,
  type UpResult,
} from '../cluster/control-plane.js';
import { defaultNodeSettings, importImagesIntoCluster, networkPlanFor } from '../cluster/nodes/cluster-nodes.js';
import { survivesNodeLoss } from '../cluster/nodes/plan.js';
import { localS3Credentials, localS3Secret, localS3Values } from '../cluster/addons/local-s3.js';
import { buildImage } from '../images/build.js';
import { clusterImages, imageRecipes, type ImageName } from '../images/recipes.js';
import type { BuiltImage } from '../images/build.js';
import { ensureDebianPackages } from '../setup/debian.js';
import { ensureGoBinaries, missingGoBinaries, requireGoFor } from '../setup/go-build.js';
import { controlPlaneComponents, nodeHostComponents, type GoComponentName } from '../setup/go-components.js';
import { ensureKubectlAndHelm } from '../setup/kubectl-layer.js';
import { runLanes, type Lane } from '../setup/lanes.js';
import { loadVersions } from '../setup/versions.js';
import { run } from '../util/exec.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { componentEndpoint, type Endpoint } from './endpoints.js';
import { applyMonitoring, waitForMonitoring, type MonitoringUrls } from './monitoring.js';
import type { Receivers } from '../monitoring/alertmanager-config.js';
import { DEFAULT_MONITORING, MONITORING_NAMESPACE, type MonitoringImages } from '../monitoring/manifests.js';
import { helmUninstall, helmUpgradeInstall } from '../kube/helm-release.js';
import { copySecrets, Kube, restrictNamespaceArgs } from '../kube/kube.js';
import { allReady, describeProgress, releaseWorkloads, type WorkloadStatus } from './workloads.js';
import { liveDbTls, restartDbOnTlsSwitch } from './db-tls-switch.js';

/** The images the chart's local values name. */
export const STACK_IMAGES: readonly ImageName[] = ['nginx', 'node', 'mariadb', 'monitoring'];

/** Every image `up` puts on the local cluster: the cluster's own and the stack's. */
const LOCAL_IMAGES: readonly ImageName[] = [...new Set([...clusterImages, ...STACK_IMAGES])];

/**
 * The Go components `up` builds for the local cluster: the control plane, the nodes and their host
 * add-ons, and what the images carry. Nothing else (etcdctl is an operator's tool: `kstack setup`).
 */
export function localStackGoComponents(images: readonly ImageName[] = LOCAL_IMAGES): GoComponentName[] {
  const carried = images.flatMap((i) => Object.keys(imageRecipes[i].goBinaries) as GoComponentName[]);
  return [...new Set<GoComponentName>([...controlPlaneComponents, ...nodeHostComponents, ...carried])];
}

/** Images that carry a Go binary wait for the compile; the others (Debian root filesystems) can go alongside it. */
export function imagesByLane(images: readonly ImageName[]): { afterCompile: ImageName[]; alongside: ImageName[] } {
  const carriesGo = (i: ImageName): boolean => Object.keys(imageRecipes[i].goBinaries).length > 0;
  return { afterCompile: images.filter(carriesGo), alongside: images.filter((i) => !carriesGo(i)) };
}

/**
 * The two lanes of a first `up`. Compiling Go is CPU bound; installing the nodes' Debian packages,
 * fetching kubectl and Node.js and building the images' Debian root filesystems is network and disk
 * bound, and none of that needs a Go binary, so it runs alongside.
 * Images that carry a Go binary (pause, CoreDNS: no root
 * filesystem, seconds to build) follow the compile in its lane.
 */
export function firstRunLanes(images: readonly ImageName[] = LOCAL_IMAGES): Lane[] {
  const { afterCompile, alongside } = imagesByLane(images);
  const debian = loadVersions().debianPackages;
  return [
    {
      name: 'Go',
      tasks: [
        (p) => ensureGoBinaries(localStackGoComponents(images), p),
        ...afterCompile.map((i) => (p: Progress) => buildImage(i, p)),
      ],
    },
    {
      name: 'images',
      tasks: [
        // mmdebstrap for the root filesystems, and the nodes' containerd, runc, CNI plugins.
        (p) => ensureDebianPackages(debian.nodes ?? [], p),
        (p) => ensureKubectlAndHelm(p),
        ...alongside.map((i) => (p: Progress) => buildImage(i, p)),
      ],
    },
  ];
}

/**
 * On a machine with empty caches most of `up` is compiling Go and building images: run the two side by
 * side before the cluster starts (the cluster's own steps then find everything cached). With the Go
 * programs built already there is nothing to overlap, and this does nothing.
 */
export async function prepareLocalStack(progress: Progress): Promise<void> {
  const missing = missingGoBinaries(localStackGoComponents());
  if (missing.length === 0) return;
  await requireGoFor(missing); // no toolchain: say so now, not after the image lane's first root filesystem
  // Before the lanes, as before any Go build: ca-certificates (module downloads), unzip (kubectl and
  // helm come in a zip). Small, and one apt-get at a time: the image lane installs the rest.
  await ensureDebianPackages(loadVersions().debianPackages.controlPlane ?? [], progress);
  await runLanes('build the Go programs and the images side by side', firstRunLanes(), progress);
}

export interface StackUpOptions {
  /** Deploy to this kubeconfig context (an existing cluster, public images) instead of the local cluster. */
  context?: string;
  namespace: string;
  release: string;
  valuesFiles: string[];
  clusterName?: string;
  /** Nodes of a new local cluster (default 5); a running cluster keeps its own. */
  nodes?: number;
  baseDir?: string;
  timeoutMs: number;
  progress: Progress;
  /** Runs after the release namespace exists and before helm installs into it (e.g. Secrets the chart adopts). */
  beforeInstall?: (kube: Kube) => Promise<void>;
  /** Alert destinations for kstack's Alertmanager (replaces the ones set before). */
  receivers?: Receivers;
  /** With --context: also run kstack's monitoring there, from these images (a registry's). */
  contextMonitoring?: MonitoringImages;
}

export interface StackUpResult {
  /** kubectl/helm arguments that select the cluster (kubeconfig and context). */
  kubeArgs: string[];
  kubeconfig?: string;
  namespace: string;
  release: string;
  workloads: WorkloadStatus[];
  page: Endpoint;
  podwatch?: Endpoint;
  /** The local cluster's Prometheus, Alertmanager and health page (none on --context). */
  monitoring?: MonitoringUrls;
  alertmanager?: Endpoint;
}

async function waitForWorkloads(
  kubectl: string,
  kubeArgs: string[],
  namespace: string,
  release: string,
  timeoutMs: number,
  progress: Progress,
): Promise<WorkloadStatus[]> {
  return progress.step(`wait for release '${release}' in namespace '${namespace}'`, async (step) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = await releaseWorkloads(kubectl, kubeArgs, namespace, release);
      if (allReady(last)) return last;
      step.detail(describeProgress(last) || 'waiting for workloads to appear');
      if (Date.now() > deadline) {
        const pods = (
          await run(
            kubectl,
            [...kubeArgs, '-n', namespace, 'get', 'pods', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'wide'],
            { allowFailure: true },
          )
        ).stdout;
        throw new UserError(
          `release '${release}' not ready after ${Math.round(timeoutMs / 1000)} ` +
            `s (${describeProgress(last)}); pods:\n${pods}\nSee ` +
            `'kubectl -n ${namespace} describe pods' and the pods' logs`,
        );
      }
      await sleep(1000);
    }
  });
}

/**
 * kstack's monitoring on another cluster: its namespace first, then the image pull Secrets the release
 * uses copied into it (the pod pulls from the same registry), then the same objects as on the local cluster.
 */
async function applyContextMonitoring(
  kubectl: string,
  helm: string,
  kubeArgs: string[],
  opts: StackUpOptions,
  images: MonitoringImages,
): Promise<void> {
  await run(kubectl, [...kubeArgs, 'create', 'namespace', MONITORING_NAMESPACE], { allowFailure: true });
  const release = new Kube({ kubectl, helm, kubeArgs, helmArgs: [], namespace: opts.namespace });
  await copySecrets(release, images.pullSecrets, MONITORING_NAMESPACE);
  await applyMonitoring(kubectl, kubeArgs, opts.receivers, {
    ...DEFAULT_MONITORING,
    clusterName: opts.context ?? DEFAULT_MONITORING.clusterName,
    images,
  });
}

/**
 * The part of a local `up` before helm: the cluster up (or the running one reused) and the stack's images
 * built (cached) and in every node. Idempotent; `region up` runs it for the standby while the primary installs.
 */
export async function localClusterWithImages(
  opts: Pick<StackUpOptions, 'clusterName' | 'nodes' | 'baseDir' | 'progress'>,
): Promise<{ cluster: UpResult; images: BuiltImage[] }> {
  const images: BuiltImage[] = [];
  for (const name of STACK_IMAGES) images.push(await buildImage(name, opts.progress));
  // New nodes get the stack's images with the cluster's own, imported once for all of them; a running
  // cluster's nodes get what they miss below.
  const cluster = await controlPlaneUp({
    progress: opts.progress,
    nodes: defaultNodeSettings(opts.nodes),
    name: opts.clusterName ?? DEFAULT_CLUSTER,
    preload: images,
    ...(opts.baseDir ? { baseDir: opts.baseDir } : {}),
  });
  await opts.progress.step("import the stack's images into every node", () =>
    importImagesIntoCluster(cluster.layout, cluster.state, images),
  );
  return { cluster, images };
}

export async function stackUp(opts: StackUpOptions): Promise<StackUpResult> {
  if (!opts.context) await prepareLocalStack(opts.progress);
  const { kubectl, helm } = await ensureKubectlAndHelm(opts.progress);
  let kubeArgs: string[];
  let kubeconfig: string | undefined;
  const valuesFiles = [...opts.valuesFiles];
  let backupSecret: string | undefined;
  if (opts.context) {
    kubeArgs = ['--context', opts.context];
    const check = await run(kubectl, [...kubeArgs, 'version', '-o', 'json'], { allowFailure: true });
    if (check.code !== 0)
      throw new UserError(
        `--context ${opts.context}: the cluster does not answer ` +
          `(${check.stderr.trim().split('\n')[0] ?? ''}); check 'kubectl config get-contexts'`,
      );
  } else {
    const { cluster, images } = await localClusterWithImages(opts);
    kubeconfig = cluster.kubeconfig;
    kubeArgs = ['--kubeconfig', kubeconfig];
    // Before the release, so its PodMonitors and PrometheusRule are picked up as soon as they exist.
    await opts.progress.step('monitoring: Prometheus, Alertmanager and the health page (namespace monitoring)', () =>
      applyMonitoring(kubectl, kubeArgs, opts.receivers, {
        ...DEFAULT_MONITORING,
        clusterName: cluster.layout.name,
        imageKeys: images
          .filter((i) => i.name === 'node' || i.name === 'monitoring')
          .map((i) => `${i.name}=${i.key}`)
          .join(','),
      }),
    );
    // Backups to the cluster's own S3 server (started by `cluster up`): its address and the credentials
    // Secret come from the cluster; the user's values files still win.
    const creds = cluster.state.nodeSettings ? localS3Credentials(cluster.layout, false) : undefined;
    if (creds && cluster.state.nodeSettings) {
      const gateway = networkPlanFor(cluster.layout.name, cluster.state.nodeSettings).gateway;
      const s3Values = join(cluster.layout.config, 'local-s3-values.yaml');
      writeFileSync(s3Values, JSON.stringify(localS3Values(gateway), null, 2) + '\n');
      backupSecret = JSON.stringify(localS3Secret(opts.namespace, creds));
      valuesFiles.unshift(s3Values);
    }
    // values-local's "ha" preset needs 2 web and 3 db nodes; a smaller cluster gets "hard" (it cannot
    // lose a node anyway), so every member can still be placed. The user's values files still win.
    if (cluster.state.nodeSettings && !survivesNodeLoss(cluster.state.nodeSettings.count)) {
      const placement = join(cluster.layout.config, 'local-placement-values.yaml');
      writeFileSync(placement, `${JSON.stringify({ placement: { preset: 'hard' } }, null, 2)}\n`);
      valuesFiles.unshift(placement);
      opts.progress.info(
        `cluster '${cluster.layout.name}' has ${cluster.state.nodeSettings.count} ` +
          `nodes: it cannot lose a node (5 nodes can), so placement.preset is 'hard'`,
      );
    }
    valuesFiles.unshift(join(webstackChartDir, 'values-local.yaml'));
  }
  const contextMonitoring = opts.context ? opts.contextMonitoring : undefined;
  if (contextMonitoring)
    await opts.progress.step('monitoring: Prometheus, Alertmanager and the health page (namespace monitoring)', () =>
      applyContextMonitoring(kubectl, helm, kubeArgs, opts, contextMonitoring),
    );
  await opts.progress.step(`helm upgrade --install ${opts.release} (namespace ${opts.namespace})`, async () => {
    await run(kubectl, [...kubeArgs, 'create', 'namespace', opts.namespace], { allowFailure: true });
    // Only "restricted" pods from now on: every pod of the chart meets it, and nothing may later weaken that.
    await run(kubectl, [...kubeArgs, ...restrictNamespaceArgs(opts.namespace)]);
    if (backupSecret) await run(kubectl, [...kubeArgs, 'apply', '-f', '-'], { input: backupSecret });
    const kube = new Kube({
      kubectl,
      helm,
      kubeArgs,
      helmArgs: kubeconfig ? ['--kubeconfig', kubeconfig] : ['--kube-context', opts.context ?? ''],
      namespace: opts.namespace,
    });
    if (opts.beforeInstall) await opts.beforeInstall(kube);
    const tlsBefore = await liveDbTls(kubectl, kubeArgs, opts.namespace, opts.release);
    await helmUpgradeInstall(kube, { release: opts.release, chartDir: webstackChartDir, valuesFiles });
    await restartDbOnTlsSwitch(kubectl, kubeArgs, opts.namespace, opts.release, tlsBefore, opts.progress);
  });
  const workloads = await waitForWorkloads(
    kubectl,
    kubeArgs,
    opts.namespace,
    opts.release,
    opts.timeoutMs,
    opts.progress,
  );
  const page = await componentEndpoint(kubectl, kubeArgs, opts.namespace, opts.release, 'web');
  if (!page) throw new UserError(`release '${opts.release}' has no web Service; is it the webstack chart?`);
  const podwatch = await componentEndpoint(kubectl, kubeArgs, opts.namespace, opts.release, 'podwatch');
  const monitoring =
    opts.context && !contextMonitoring
      ? undefined
      : await opts.progress.step('wait for monitoring', (step) =>
          waitForMonitoring(kubectl, kubeArgs, 120_000, (t) => {
            step.detail(t);
          }),
        );
  return {
    kubeArgs,
    ...(kubeconfig ? { kubeconfig } : {}),
    namespace: opts.namespace,
    release: opts.release,
    workloads,
    page,
    ...(podwatch ? { podwatch } : {}),
    ...(monitoring ? { monitoring } : {}),
    ...(monitoring?.alertmanagerUrl
      ? { alertmanager: { url: monitoring.alertmanagerUrl, kind: 'load-balancer' as const, stop: () => undefined } }
      : {}),
  };
}

export interface StackDownOptions {
  context?: string;
  namespace: string;
  release: string;
  clusterName?: string;
  baseDir?: string;
  /** Also remove the local cluster. */
  all: boolean;
  progress: Progress;
}

/** Removes the release (and with `all`, the local cluster it runs on). */
export async function stackDown(opts: StackDownOptions): Promise<void> {
  const { kubectl, helm } = await ensureKubectlAndHelm(opts.progress);
  const name = opts.clusterName ?? DEFAULT_CLUSTER;
  const local = opts.context === undefined;
  const status = local
    ? await controlPlaneStatus({ name, ...(opts.baseDir ? { baseDir: opts.baseDir } : {}) })
    : undefined;
  const apiUp = status?.components.find((c) => c.name === 'kube-apiserver')?.healthy ?? !local;
  if (apiUp) {
    const kubeconfig = status?.kubeconfig ?? '';
    const kube = new Kube({
      kubectl,
      helm,
      kubeArgs: local ? ['--kubeconfig', kubeconfig] : ['--context', opts.context ?? ''],
      helmArgs: local ? ['--kubeconfig', kubeconfig] : ['--kube-context', opts.context ?? ''],
      namespace: opts.namespace,
    });
    // Already gone is fine: `down` is safe to run twice.
    await opts.progress.step(`helm uninstall ${opts.release} (namespace ${opts.namespace})`, () =>
      helmUninstall(kube, opts.release, { missingOk: true }),
    );
  }
  if (opts.all && local)
    await controlPlaneDown({ name, progress: opts.progress, ...(opts.baseDir ? { baseDir: opts.baseDir } : {}) });
}
