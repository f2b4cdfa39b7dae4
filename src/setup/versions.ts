import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../util/paths.js';

export interface Versions {
  kubectlLayer: { package: string; version: string; integrity: string };
  nodeRuntime: { package: string; version: string; integrity: string };
  debianPackages: Record<string, string[]>;
}

export const toolsDir = join(repoRoot, 'tools');

export function loadVersions(): Versions {
  return JSON.parse(readFileSync(join(toolsDir, 'versions.json'), 'utf8')) as Versions;
}

/** The version a go.mod requires for a module, e.g. requiredVersion(goMod, 'k8s.io/kubernetes') → 'v1.35.4'. */
export function requiredVersion(goMod: string, module: string): string | undefined {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v[^\\s]+)`, 'm').exec(goMod);
  return match?.[1];
}

/** The minimum Go version a module declares (its `go` directive), e.g. '1.25.0'. */
export function goDirective(goMod: string): string | undefined {
  return /^go\s+(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1];
}

/** The folder of one pinned Go module under tools/. */
export function goModuleDir(module: string): string {
  return join(toolsDir, module);
}

export function readGoMod(module: string): string {
  return readFileSync(join(goModuleDir(module), 'go.mod'), 'utf8');
}

/** go.sum of a module ('' for a module without dependencies, which has none). */
export function readGoSum(module: string): string {
  try {
    return readFileSync(join(goModuleDir(module), 'go.sum'), 'utf8');
  } catch {
    return '';
  }
}

/** The Kubernetes version everything is built at: the one tools/kubernetes/go.mod pins. */
export function kubernetesVersion(): string {
  const v = requiredVersion(readGoMod('kubernetes'), 'k8s.io/kubernetes');
  if (!v) throw new Error('tools/kubernetes/go.mod does not require k8s.io/kubernetes');
  return v;
}
