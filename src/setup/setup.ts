import type { Progress } from '../util/progress.js';
import { ensureDebianPackages } from './debian.js';
import { ensureGoBinaries } from './go-build.js';
import { controlPlaneComponents, type GoComponentName } from './go-components.js';
import { loadVersions } from './versions.js';

// Everything `kstack setup` installs lives with the per-command declaration (needs.ts).
export { ensureAllTools } from './needs.js';

export type GoBinaries<N extends GoComponentName = GoComponentName> = Record<N, string>;

/**
 * What the control plane itself runs: Debian packages (openssl) and the Go components built from source.
 * `alongside` are built in the same request (a cluster with nodes passes the nodes' components), so
 * kube-apiserver and kubelet come out of one `go build` of tools/kubernetes.
 */
export async function ensureControlPlaneBinaries(
  progress: Progress,
  alongside: readonly GoComponentName[] = [],
): Promise<GoBinaries<(typeof controlPlaneComponents)[number]>> {
  await ensureDebianPackages(loadVersions().debianPackages.controlPlane ?? [], progress);
  return ensureGoBinaries([...controlPlaneComponents, ...alongside], progress);
}
