import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives at dist/src/util/paths.js or src/util/paths.ts). */
export const repoRoot: string = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  ...(import.meta.url.includes('/dist/') ? ['..'] : []),
);

/** Built binaries and downloaded packages, shared by every checkout and cluster: safe to delete, slow to rebuild. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KSTACK_CACHE_DIR) return resolve(env.KSTACK_CACHE_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'kstack');
}

/** Where local clusters keep their state (certificates, etcd data, logs, pids), one folder per cluster. */
export function clustersDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KSTACK_STATE_DIR) return resolve(env.KSTACK_STATE_DIR);
  return join(
    env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state'),
    'kstack',
    'clusters',
  );
}
