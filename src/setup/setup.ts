import type { Progress } from '../util/progress.js';
import { ensureDebianPackages } from './debian.js';
import { ensureGoBinaries } from './go-build.js';
import { controlPlaneComponents, goComponents, type GoComponentName } from './go-components.js';
import { ensureKubectlAndHelm, type ClientBinaries } from './kubectl-layer.js';
import { loadVersions } from './versions.js';

export type GoBinaries<N extends GoComponentName = GoComponentName> = Record<N, string>;

export interface Toolset extends ClientBinaries {
  go: GoBinaries;
}

/**
 * What the control plane itself runs: Debian packages (openssl) and the Go components built from source.
 * `alongside` are built in the same request (a cluster with nodes passes the nodes' components), so
 * kube-apiserver and kubelet come out of one `go build` of tools/kubernetes.
 */
export async function ensureControlPlaneBinaries(progress: Progress, alongside: readonly GoComponentName[] = []): Promise<GoBinaries<(typeof controlPlaneComponents)[number]>> {
  await ensureDebianPackages(loadVersions().debianPackages.controlPlane ?? [], progress);
  return ensureGoBinaries([...controlPlaneComponents, ...alongside], progress);
}

/** Everything `kstack` and its tests use. Idempotent; with warm caches it only checks that files exist. */
export async function ensureAllTools(progress: Progress): Promise<Toolset> {
  // Every group in tools/versions.json: what the stack, its tests and benchmarks use.
  await ensureDebianPackages([...new Set(Object.values(loadVersions().debianPackages).flat())], progress);
  const go = await ensureGoBinaries(Object.keys(goComponents) as GoComponentName[], progress);
  const clients = await ensureKubectlAndHelm(progress);
  return { ...clients, go };
}
