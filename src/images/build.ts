import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ensureGoBinaries } from '../setup/go-build.js';
import type { GoComponentName } from '../setup/go-components.js';
import { ensureNodeRuntime } from '../setup/kubectl-layer.js';
import { loadVersions } from '../setup/versions.js';
import { run } from '../util/exec.js';
import { cacheDir, repoRoot } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { InFlight } from '../util/in-flight.js';
import { waitForLock } from '../util/lock.js';
import { describeLayer, sha256File, writeOciLayout, type Layer } from './oci.js';
import { imageRecipes, type ImageName, type ImageRecipe } from './recipes.js';

export interface BuiltImage {
  name: ImageName;
  ref: string;
  /** OCI image layout folder, ready for `ctr images import`. */
  dir: string;
  key: string;
}

const imagesDir = (): string => join(cacheDir(), 'images');

/** The Debian sources this host's apt uses: mmdebstrap reads them, so no mirror is named anywhere. */
export function hostDebianSources(): string {
  const dir = '/etc/apt/sources.list.d';
  const parts: string[] = [];
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.sources') && /debian/i.test(readFileSync(join(dir, f), 'utf8')))
        parts.push(readFileSync(join(dir, f), 'utf8'));
    }
  }
  if (parts.length === 0 && existsSync('/etc/apt/sources.list')) {
    throw new Error('only deb822 sources (/etc/apt/sources.list.d/*.sources) are supported for building images');
  }
  return parts.join('\n');
}

/** A short hex key over the parts (cache keys of images and node roots). */
export const hashOf = (...parts: string[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
};

/** A Debian root filesystem with `packages`, as a tar layer, built once per package set and sources. */
async function debianRootfs(packages: readonly string[], progress: Progress): Promise<Layer> {
  const sources = hostDebianSources();
  const key = hashOf('rootfs-v1', [...packages].sort().join(','), sources);
  const file = join(imagesDir(), 'rootfs', `${key}.tar`);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}.tar`;
    try {
      await progress.step(`Debian root filesystem with ${packages.join(', ')}`, async (step) => {
        await run(
          'mmdebstrap',
          [
            '--variant=essential',
            '--format=tar',
            `--include=${packages.join(',')}`,
            '--aptopt=Apt::Install-Recommends "false"',
            '--dpkgopt=path-exclude=/usr/share/doc/*',
            '--dpkgopt=path-include=/usr/share/doc/*/copyright',
            '--dpkgopt=path-exclude=/usr/share/man/*',
            '--dpkgopt=path-exclude=/usr/share/locale/*',
            '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log',
            'bookworm',
            tmp,
            '-',
          ],
          {
            input: sources,
            onLine: (line) => {
              if (line.startsWith('I: ')) step.detail(line.slice(3));
            },
          },
        );
      });
      renameSync(tmp, file);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  return describeLayer(file);
}

/** All files below `dir`, for hashing the app layer's content. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A layer made of the files staged in `dir`, with fixed owners and times so equal input gives equal bytes. */
async function layerFromDir(dir: string, out: string): Promise<Layer> {
  await run('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    dir,
    '-cf',
    out,
    '.',
  ]);
  return describeLayer(out);
}

/** Builds one image (or finds it in the cache: same recipe and inputs → same folder). */
export async function buildImage(name: ImageName, progress: Progress): Promise<BuiltImage> {
  const recipe: ImageRecipe = imageRecipes[name];
  const goNames = Object.keys(recipe.goBinaries) as GoComponentName[];
  const goPaths = goNames.length ? await ensureGoBinaries(goNames, progress) : {};
  const nodeBinary = recipe.includeNode ? await ensureNodeRuntime(progress) : undefined;
  const appFiles = recipe.includeKstackApp ? filesBelow(join(repoRoot, 'dist', 'src')) : [];

  const inputs: string[] = [JSON.stringify(recipe), recipe.debianPackages.length ? hostDebianSources() : ''];
  for (const n of goNames) inputs.push(n, String(statSync((goPaths as Record<string, string>)[n] ?? '').mtimeMs));
  if (nodeBinary) inputs.push(JSON.stringify(loadVersions().nodeRuntime));
  if (recipe.includeKstackApp) {
    inputs.push(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
    for (const f of appFiles) inputs.push(relative(repoRoot, f), readFileSync(f, 'utf8'));
  }
  const key = hashOf('image-v1', ...inputs);
  const dir = join(imagesDir(), `${name}-${key}`);
  if (existsSync(join(dir, 'index.json'))) return { name, ref: recipe.ref, dir, key };

  // Two kstack processes (two clusters coming up at once) may want the same image: one builds, the other
  // waits for it instead of replacing the folder the first is about to import. The lock lets its own process
  // through, so two builds of one image in this process (two regions' lanes) join here first.
  return imageBuilds.run(dir, async () => {
    mkdirSync(imagesDir(), { recursive: true });
    const lock = await waitForLock(
      join(imagesDir(), `${name}-${key}.lock`),
      `building image ${recipe.ref}`,
      30 * 60_000,
      (pid) => {
        progress.info(`waiting for pid ${pid}, which builds image ${recipe.ref}`);
      },
    );
    try {
      if (existsSync(join(dir, 'index.json'))) return { name, ref: recipe.ref, dir, key };
      return await writeImage({ name, recipe, key, dir, goNames, goPaths, nodeBinary }, progress);
    } finally {
      lock.release();
    }
  });
}

/** The image builds under way in this process, by folder. */
const imageBuilds = new InFlight<BuiltImage>();

interface ImageInputs {
  name: ImageName;
  recipe: ImageRecipe;
  key: string;
  dir: string;
  goNames: GoComponentName[];
  goPaths: Record<string, string>;
  nodeBinary: string | undefined;
}

/** Builds the image's layers and OCI layout into `dir` (under the image lock). */
function writeImage(i: ImageInputs, progress: Progress): Promise<BuiltImage> {
  const { name, recipe, key, dir, goNames, goPaths, nodeBinary } = i;
  return progress.step(`build image ${recipe.ref}`, async () => {
    const layers: Layer[] = [];
    if (recipe.debianPackages.length) layers.push(await debianRootfs(recipe.debianPackages, progress));
    const work = mkdtempSync(join(imagesDir(), `.tmp-${name}-`));
    try {
      const staged = join(work, 'files');
      mkdirSync(staged);
      for (const n of goNames) {
        const target = join(staged, recipe.goBinaries[n] ?? '');
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(goPaths[n] ?? '', target);
        chmodSync(target, 0o755);
      }
      if (nodeBinary) {
        mkdirSync(join(staged, 'usr/local/bin'), { recursive: true });
        copyFileSync(nodeBinary, join(staged, 'usr/local/bin/node'));
        chmodSync(join(staged, 'usr/local/bin/node'), 0o755);
      }
      if (recipe.includeKstackApp) {
        const app = join(staged, 'opt/kstack');
        mkdirSync(app, { recursive: true });
        for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(repoRoot, f), join(app, f));
        await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
          cwd: app,
        });
        cpSync(join(repoRoot, 'dist', 'src'), join(app, 'dist', 'src'), {
          recursive: true,
          filter: (src) => !src.endsWith('.map'),
        });
      }
      // /tmp must exist and be writable in every image (emptyDirs cover it when the root fs is read-only).
      mkdirSync(join(staged, 'tmp'), { recursive: true });
      chmodSync(join(staged, 'tmp'), 0o1777);
      layers.push(await layerFromDir(staged, join(work, 'files.tar')));
      const layout = join(work, 'oci');
      writeOciLayout(layout, recipe.ref, layers, {
        ...(recipe.entrypoint ? { entrypoint: [...recipe.entrypoint] } : {}),
        ...(recipe.cmd ? { cmd: [...recipe.cmd] } : {}),
        ...(recipe.user ? { user: recipe.user } : {}),
        ...(recipe.workdir ? { workdir: recipe.workdir } : {}),
        ...(recipe.env ? { env: { ...recipe.env } } : {}),
      });
      rmSync(dir, { recursive: true, force: true });
      renameSync(layout, dir);
      writeFileSync(
        join(dir, 'kstack-image.json'),
        JSON.stringify({ name, ref: recipe.ref, key, layers: layers.map((l) => l.sha256) }),
      );
      return { name, ref: recipe.ref, dir, key };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

export { sha256File };
