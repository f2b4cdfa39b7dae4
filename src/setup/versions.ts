import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../util/paths.js';

export interface Versions {
  kubectlLayer: { package: string; version: string; integrity: string };
  debianPackages: Record<string, string[]>;
}

export const toolsDir = join(repoRoot, 'tools');

export function loadVersions(): Versions {
  return JSON.parse(readFileSync(join(toolsDir, 'versions.json'), 'utf8')) as Versions;
}

/** The version tools/go.mod requires for a module, e.g. requiredVersion(goMod, 'k8s.io/kubernetes') → 'v1.35.4'. */
export function requiredVersion(goMod: string, module: string): string | undefined {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v[^\\s]+)`, 'm').exec(goMod);
  return match?.[1];
}

/** The minimum Go version the module declares (its `go` directive), e.g. '1.25.0'. */
export function goDirective(goMod: string): string | undefined {
  return /^go\s+(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1];
}

export function readGoMod(): string {
  return readFileSync(join(toolsDir, 'go.mod'), 'utf8');
}
