// `kstack region down`: the pair of regions removed from this machine. The global name's daemon first (it
// stops itself, and its CoreDNS, once the pair file is gone; stopped by its pid if it does not), then both
// regions' clusters (`cluster down` also removes the link rules, which carry their cluster's comment), then
// the pair's folder. Safe to run again, and on a pair that is half there.
import { existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { controlPlaneDown } from '../cluster/control-plane.js';
import { runLanes } from '../setup/lanes.js';
import type { Progress } from '../util/progress.js';
import { isRunning, stopDaemon } from '../util/process.js';
import { pairFile, readPair } from './pair.js';

export interface RegionDownResult {
  /** The regions whose clusters were there and are removed now. */
  removed: string[];
  /** False when there was no pair file (nothing to do but the clusters named). */
  hadPair: boolean;
}

/** How long the daemon may take to see that its pair file is gone (it looks once a second). */
const DAEMON_EXIT_MS = 5_000;

export async function regionDown(opts: {
  progress: Progress;
  /** Regions to remove when there is no pair file any more (e.g. an interrupted `region up`). */
  regions?: readonly string[];
  /** The local clusters' state folder (default: KSTACK_STATE_DIR or the user's). */
  baseDir?: string;
}): Promise<RegionDownResult> {
  const path = pairFile(opts.baseDir !== undefined ? { KSTACK_STATE_DIR: opts.baseDir } : process.env);
  const pair = readPair(path);
  const regions = [...new Set([...(pair ? [pair.primary, pair.standby] : []), ...(opts.regions ?? [])])];
  if (pair?.dns) {
    const { pid } = pair.dns;
    await opts.progress.step(`stop the global name's daemon (pid ${pid})`, async () => {
      rmSync(path, { force: true });
      const deadline = Date.now() + DAEMON_EXIT_MS;
      while (Date.now() < deadline && isRunning(pid, process.execPath)) await sleep(200);
      await stopDaemon(pid, process.execPath);
    });
  }
  const removed: string[] = [];
  // The clusters are independent: both go down at once.
  if (regions.length)
    await runLanes(
      `clusters ${regions.join(' and ')} down`,
      regions.map((name) => ({
        name,
        tasks: [
          async (progress: Progress) => {
            const { existed } = await controlPlaneDown({
              name,
              progress,
              ...(opts.baseDir !== undefined ? { baseDir: opts.baseDir } : {}),
            });
            if (existed) removed.push(name);
          },
        ],
      })),
      opts.progress,
    );
  // The pair's folder: its file, the global name's files and the backup copy's status.
  if (existsSync(dirname(path))) rmSync(dirname(path), { recursive: true, force: true });
  return { removed, hadPair: pair !== undefined };
}
