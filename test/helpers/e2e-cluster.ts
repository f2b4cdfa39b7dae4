// Which local cluster an e2e file uses: the one its group shares (test/runner/groups.ts; the runner
// passes its name and folder and removes it after the group), or, when the file runs on its own, a
// cluster of its own in a temporary folder that the file removes itself.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stackDown, type StackUpResult } from '../../src/stack/up.js';
import type { Progress } from '../../src/util/progress.js';
import { TEST_ENV } from './env.js';

export interface E2eClusterRef {
  name: string;
  baseDir: string;
  /** True when the group shares the cluster: the file leaves it up (cleaning what it added) for the next file. */
  shared: boolean;
  /** Removes the temporary folder of an own cluster (after `down`); a shared one is the runner's. */
  removeFolder(): void;
}

export function e2eCluster(ownName: string, env: NodeJS.ProcessEnv = process.env): E2eClusterRef {
  const name = env[TEST_ENV.e2eCluster];
  const baseDir = env[TEST_ENV.e2eBaseDir];
  if (name && baseDir) {
    mkdirSync(baseDir, { recursive: true });
    return { name, baseDir, shared: true, removeFolder: () => undefined };
  }
  const own = mkdtempSync(join(tmpdir(), `kstack-${ownName}-`));
  return {
    name: ownName,
    baseDir: own,
    shared: false,
    removeFolder: () => {
      rmSync(own, { recursive: true, force: true });
    },
  };
}

/**
 * The end of an e2e file that installed the stack (`after`): its port-forwards stopped; on an own
 * cluster `kstack down --all` and the folder removed; on the group's shared cluster the release stays
 * installed for the next file (the group's last file takes it down). Never throws.
 */
export async function leaveStack(
  ref: E2eClusterRef,
  result: StackUpResult | undefined,
  progress: Progress,
  release = { namespace: 'webstack', release: 'web' },
): Promise<void> {
  result?.page.stop();
  result?.podwatch?.stop();
  if (ref.shared) return;
  await stackDown({ ...release, clusterName: ref.name, baseDir: ref.baseDir, all: true, progress }).catch(
    () => undefined,
  );
  ref.removeFolder();
}
