// A node's containerd root with the images already imported, made once per set of images and given to each
// new node as hard links (kind ships its node image with the images preloaded the same way). Importing
// ~1.8 GB into every node's containerd through its API costs minutes on 2 cores (2 min for 5 nodes idle,
// 6 min for a region's 3 nodes beside other clusters); a hard-linked copy takes about a second. What is
// shared never changes in place: content blobs are named by their digest and layer trees are overlayfs lower
// layers (a container's writes go to its own upper layer). containerd removes them by unlinking, which leaves
// the other links alone. The metadata databases, which do change, are copied.
import {
  copyFileSync,
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
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashOf, type BuiltImage } from '../../images/build.js';
import { run } from '../../util/exec.js';
import { messageOf, UserError } from '../../util/errors.js';
import { InFlight } from '../../util/in-flight.js';
import { waitForLock } from '../../util/lock.js';
import { cacheDir } from '../../util/paths.js';
import { startDaemon, stopDaemon } from '../../util/process.js';
import type { Progress } from '../../util/progress.js';

export const CONTAINERD = '/usr/bin/containerd';
/**
 * Templates kept besides the one just made: each commit's node image makes a new one and the old ones only
 * take disk, but clusters of other image sets may be seeding from theirs right now.
 */
const KEEP_OLDER = 2;
const IMAGES_FILE = 'images.json';

export type TemplateImage = Pick<BuiltImage, 'name' | 'ref' | 'key'>;

export interface RootTemplate {
  /** The containerd root to copy. */
  root: string;
  images: TemplateImage[];
}

/** The template's identity: the containerd that wrote it and every image in it (by build key). Pure. */
export function templateKey(containerdVersion: string, images: readonly TemplateImage[]): string {
  const sorted = [...images].sort((a, b) => a.name.localeCompare(b.name));
  return hashOf('node-root-v1', containerdVersion, ...sorted.map((i) => `${i.name}=${i.ref}@${i.key}`));
}

/**
 * Whether a file of a containerd root (path relative to it) may be shared by hard link: content blobs and the
 * files of committed overlayfs layers. Everything else (the metadata databases) is copied. Pure.
 */
export function mayShare(relPath: string): boolean {
  return (
    relPath.startsWith('io.containerd.content.v1.content/blobs/') ||
    /^io\.containerd\.snapshotter\.v1\.overlayfs\/snapshots\/\d+\/fs\//.test(relPath)
  );
}

/** Whether the containerd on `socket` answers within `attempts` tries, 0.1 s apart. */
export async function containerdAnswers(socket: string, attempts: number): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    const res = await run('ctr', ['--address', socket, 'version'], { allowFailure: true, timeoutMs: 5000 });
    if (res.code === 0) return true;
    await sleep(100);
  }
  return false;
}

/** `base` and then the images of `more` that `base` does not name (one image per name, base's first). Pure. */
export function withImages<T extends Pick<BuiltImage, 'name'>>(base: readonly T[], more: readonly T[]): T[] {
  const names = new Set(base.map((i) => i.name));
  return [...base, ...more.filter((i) => !names.has(i.name))];
}

/** One set of images imported for one node at a time, joined within this process (see in-flight.ts). */
const templateBuilds = new InFlight<RootTemplate>();

function templatesDir(): string {
  return join(cacheDir(), 'node-roots');
}

function readTemplate(dir: string): RootTemplate | undefined {
  const file = join(dir, IMAGES_FILE);
  if (!existsSync(file)) return undefined;
  return { root: join(dir, 'root'), images: JSON.parse(readFileSync(file, 'utf8')) as TemplateImage[] };
}

/** The template for `images`, made (under a lock, once) when it does not exist yet. */
export async function ensureRootTemplate(
  images: readonly BuiltImage[],
  importImage: (image: BuiltImage, socket: string) => Promise<void>,
  progress: Progress,
): Promise<RootTemplate> {
  const version = (await run(CONTAINERD, ['--version'])).stdout.trim();
  const dir = join(templatesDir(), templateKey(version, images));
  const ready = readTemplate(dir);
  if (ready) return ready;
  return templateBuilds.run(dir, async () => {
    mkdirSync(templatesDir(), { recursive: true });
    const lock = await waitForLock(`${dir}.lock`, 'preparing the nodes’ images', 30 * 60_000, (pid) => {
      progress.info(`waiting for pid ${pid}, which imports the nodes' images once for every node`);
    });
    try {
      const done = readTemplate(dir);
      if (done) return done;
      const made = await buildTemplate(dir, images, importImage);
      pruneTemplates(dir);
      return made;
    } finally {
      lock.release();
    }
  });
}

async function buildTemplate(
  dir: string,
  images: readonly BuiltImage[],
  importImage: (image: BuiltImage, socket: string) => Promise<void>,
): Promise<RootTemplate> {
  const tmp = mkdtempSync(join(templatesDir(), '.build-'));
  const root = join(tmp, 'root');
  const state = join(tmp, 'state');
  const socket = join(state, 'c.sock');
  const config = join(tmp, 'containerd.toml');
  const q = (s: string): string => JSON.stringify(s);
  // No CRI here: only the content and the snapshots are wanted; each node's containerd brings its own CRI.
  writeFileSync(
    config,
    `version = 2\nroot = ${q(root)}\nstate = ${q(state)}\n` +
      `disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",` +
      ` "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",` +
      ` "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",` +
      ` "io.containerd.internal.v1.tracing"]\n[grpc]\n  address = ${q(socket)}\n` +
      `[ttrpc]\n  address = ${q(`${socket}.ttrpc`)}\n`,
  );
  // The log stays beside the template's folder when the import fails (the folder itself is removed).
  const log = `${dir}.log`;
  const pid = startDaemon({ binary: CONTAINERD, args: ['--config', config], logFile: log });
  try {
    try {
      if (!(await containerdAnswers(socket, 300))) throw new Error('its containerd did not answer');
      for (const image of images) await importImage(image, socket);
    } finally {
      // A clean stop closes the metadata databases that every node gets a copy of.
      await stopDaemon(pid, CONTAINERD, 60_000);
    }
    rmSync(state, { recursive: true, force: true });
    const listed: TemplateImage[] = images.map(({ name, ref, key }) => ({ name, ref, key }));
    writeFileSync(join(tmp, IMAGES_FILE), `${JSON.stringify(listed, null, 2)}\n`);
    renameSync(tmp, dir);
    rmSync(log, { force: true });
    return { root: join(dir, 'root'), images: listed };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new UserError(
      `importing the nodes' images (once, for every node) failed: ${messageOf(err)}; containerd's log: ${log}`,
    );
  }
}

/** Removes the older templates but the newest KEEP_OLDER (nodes made from them keep their links). */
function pruneTemplates(current: string): void {
  const older = readdirSync(templatesDir(), { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && join(templatesDir(), e.name) !== current)
    .map((e) => ({ path: join(templatesDir(), e.name), mtime: statSync(join(templatesDir(), e.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const t of older.slice(KEEP_OLDER)) rmSync(t.path, { recursive: true, force: true });
}

/**
 * Gives a node whose containerd has never run (no root yet) the template's root: hard links for what may be
 * shared, copies of the rest. Returns false, doing nothing, when the two folders are on different file
 * systems (hard links cannot cross them): the caller imports the images instead.
 */
export async function seedNodeRoot(template: RootTemplate, containerdRoot: string): Promise<boolean> {
  const parent = dirname(containerdRoot);
  mkdirSync(parent, { recursive: true });
  if (statSync(parent).dev !== statSync(template.root).dev) return false;
  const tmp = `${containerdRoot}.seeding`;
  rmSync(tmp, { recursive: true, force: true });
  // cp -a keeps owners, modes and the xattrs overlayfs reads (opaque directories); -l links the files.
  await run('cp', ['-al', template.root, tmp]);
  const copyUnshared = (rel: string): void => {
    for (const e of readdirSync(join(tmp, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!mayShare(`${path}/`)) copyUnshared(path);
      } else if (e.isFile() && !mayShare(path)) {
        // Replace the link with a file of its own.
        rmSync(join(tmp, path));
        copyFileSync(join(template.root, path), join(tmp, path));
      }
    }
  };
  copyUnshared('');
  // The node's files step made the (empty) root folder; the seeded one takes its place.
  rmSync(containerdRoot, { recursive: true, force: true });
  renameSync(tmp, containerdRoot);
  return true;
}
