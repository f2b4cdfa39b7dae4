import type { Progress } from '../util/progress.js';
import { ensureDebianPackages } from './debian.js';
import { ensureGoBinaries } from './go-build.js';
import { controlPlaneComponents, type GoComponentName } from './go-components.js';
import { ensureKubectlAndHelm, type ClientBinaries } from './kubectl-layer.js';
import { loadVersions } from './versions.js';

export type GoBinaries = Record<GoComponentName, string>;

export interface Toolset extends ClientBinaries {
  go: GoBinaries;
}

/** What the control plane itself runs: Debian packages (openssl) and the Go components built from source. */
export async function ensureControlPlaneBinaries(progress: Progress): Promise<GoBinaries> {
  await ensureDebianPackages(loadVersions().debianPackages.controlPlane ?? [], progress);
  return ensureGoBinaries(controlPlaneComponents, progress);
}

/** Everything `kstack` and its tests use. Idempotent; with warm caches it only checks that files exist. */
export async function ensureAllTools(progress: Progress): Promise<Toolset> {
  const go = await ensureControlPlaneBinaries(progress);
  const clients = await ensureKubectlAndHelm(progress);
  return { ...clients, go };
}
