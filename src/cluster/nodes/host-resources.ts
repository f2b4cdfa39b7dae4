import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../util/exec.js';

const CGROUP_V1 = '/sys/fs/cgroup';

/** The cgroup v1 hierarchies mounted on this host (cpu, memory, …, name=systemd), as folders. */
export function cgroupHierarchies(): string[] {
  try {
    return readdirSync(CGROUP_V1)
      .filter((d) => d !== 'unified')
      .map((d) => join(CGROUP_V1, d));
  } catch {
    return [];
  }
}

/**
 * Creates a node's cgroup root in every hierarchy (the kubelet refuses to start without it), thawed. cpuset
 * needs its cpus and mems copied from the parent before anything can join it.
 */
export function ensureCgroupRoot(name: string): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(h, name);
    if (!existsSync(dir)) mkdirSync(dir);
    // A node stopped with `node stop --mode freeze` and never started would hold every new pod frozen.
    if (h.endsWith('/freezer')) writeFileSync(join(dir, 'freezer.state'), 'THAWED');
    if (h.endsWith('/cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (readFileSync(join(dir, f), 'utf8').trim() === '')
          writeFileSync(join(dir, f), readFileSync(join(h, f), 'utf8'));
      }
    }
  }
}

/** Pids in a cgroup subtree (containers of a node that its runtime did not stop). */
export function pidsInCgroup(name: string): number[] {
  const pids = new Set<number>();
  for (const h of cgroupHierarchies()) {
    const root = join(h, name);
    if (!existsSync(root)) continue;
    const walk = (dir: string): void => {
      try {
        for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
          if (line) pids.add(Number(line));
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
      } catch {
        // raced with removal
      }
    };
    walk(root);
  }
  return [...pids];
}

/** Removes a cgroup subtree, deepest first (only empty cgroups can be removed). */
export function removeCgroupRoot(name: string): void {
  for (const h of cgroupHierarchies()) {
    const root = join(h, name);
    if (!existsSync(root)) continue;
    const remove = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) remove(join(dir, e.name));
      try {
        rmdirSync(dir);
      } catch {
        /* still busy: reported by the caller's check */
      }
    };
    remove(root);
  }
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsBelow(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts everything below `dir` (lazily, so busy mounts of dying processes do not block). */
export async function unmountBelow(dir: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const mounts = mountsBelow(dir);
    if (mounts.length === 0) return;
    for (const m of mounts) await run('umount', ['-l', m], { allowFailure: true });
  }
}

/** inotify instances the host must allow: every kubelet and containerd holds several, and Debian's default is 128. */
export const INOTIFY_INSTANCES = 1024;
const INOTIFY_LIMIT = '/proc/sys/fs/inotify/max_user_instances';

/** Raises fs.inotify.max_user_instances to INOTIFY_INSTANCES if it is lower (never lowers it). */
export function ensureInotifyInstances(): void {
  const current = Number.parseInt(readFileSync(INOTIFY_LIMIT, 'utf8'), 10);
  // A kubelet that cannot get an inotify instance exits with "too many open files" at start.
  if (Number.isFinite(current) && current < INOTIFY_INSTANCES) writeFileSync(INOTIFY_LIMIT, String(INOTIFY_INSTANCES));
}
