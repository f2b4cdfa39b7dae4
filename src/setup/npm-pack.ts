import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../util/exec.js';
import { cacheDir } from '../util/paths.js';

export interface NpmPin {
  package: string;
  version: string;
  integrity: string;
}

/** The npm `integrity` string (sha512, base64) of a file's bytes. */
export function npmIntegrity(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/**
 * Downloads a pinned npm package tarball (once) and unpacks it into the cache, checking its integrity
 * against the pin before anything is unpacked. Returns the unpacked `package/` folder.
 */
export async function fetchNpmPackage(pin: NpmPin): Promise<string> {
  const base = join(cacheDir(), 'npm', `${pin.package.replace('/', '+')}@${pin.version}`);
  const unpacked = join(base, 'package');
  if (existsSync(unpacked)) return unpacked;
  mkdirSync(join(cacheDir(), 'npm'), { recursive: true });
  const tmp = mkdtempSync(join(cacheDir(), 'npm', '.tmp-'));
  try {
    await run('npm', ['pack', `${pin.package}@${pin.version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${pin.package}@${pin.version} produced no tarball`);
    const actual = npmIntegrity(readFileSync(join(tmp, tgz)));
    if (actual !== pin.integrity) {
      throw new Error(
        `${pin.package}@${pin.version} does not match the integrity pinned in tools/versions.json (got ${actual})`,
      );
    }
    await run('tar', ['-xzf', join(tmp, tgz), '-C', tmp]);
    mkdirSync(base, { recursive: true });
    renameSync(join(tmp, 'package'), unpacked);
    return unpacked;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
