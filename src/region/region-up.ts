// `kstack region up`: two local clusters, each with the stack, as one pair of regions (docs/multi-region.md):
// the primary first, then the standby with the primary's CA, then the standby's replica pointed at the
// primary's entry point and the pair recorded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runLanes } from '../setup/lanes.js';
import {
  localClusterWithImages,
  prepareLocalStack,
  stackUp,
  type StackUpOptions,
  type StackUpResult,
} from '../stack/up.js';
import type { Progress } from '../util/progress.js';
import { UserError } from '../util/errors.js';
import { exchangeBackupKeys } from './backup-keys.js';
import { GLOBAL_NAME, ensureGlobalDns } from './global-name.js';
import { checkPair, pairFile, readPair, regionValues, writePair, type RegionPair } from './pair.js';
import { copyRegionSecrets, ensureReplica, recordPeers, regionKube, roleEverywhere } from './regions.js';

export interface RegionUpOptions {
  primary: string;
  standby: string;
  /** Nodes of the primary's cluster (default 5, which can lose a node). */
  primaryNodes?: number;
  /** Nodes of the standby's cluster (it may be smaller). */
  standbyNodes?: number;
  namespace: string;
  release: string;
  valuesFiles: string[];
  timeoutMs: number;
  progress: Progress;
}

export interface RegionUpResult {
  pair: RegionPair;
  primary: StackUpResult;
  standby: StackUpResult;
}

function regionValuesFile(dir: string, region: string, values: Record<string, unknown>): string {
  const file = join(dir, `region-${region}-values.json`);
  writeFileSync(file, `${JSON.stringify(values, null, 2)}\n`);
  return file;
}

const hostOf = (url: string): string => new URL(url).hostname;

/**
 * Both regions' clusters and stacks, then the standby's replica pointed at the primary's entry point.
 * Idempotent: re-running it re-applies the values and re-points the replica from where it stands.
 */
export async function regionUp(opts: RegionUpOptions): Promise<RegionUpResult> {
  checkPair(opts.primary, opts.standby);
  // Re-running on a pair whose roles have changed would make two primaries: refuse, and say the way.
  const existing = readPair();
  if (existing && (existing.primary !== opts.primary || existing.standby !== opts.standby))
    throw new UserError(
      `the regions are already a pair with ${existing.primary} as the primary and ${existing.standby} as the ` +
        `standby; run 'kstack region up --primary ${existing.primary} --standby ${existing.standby}'`,
    );
  const epoch = existing?.epoch ?? 1;
  const { progress } = opts;
  const stack = async (
    region: string,
    role: 'primary' | 'standby',
    extra: Partial<StackUpOptions>,
  ): Promise<StackUpResult> => {
    // The region's values live only as long as its install: a folder of their own, removed after.
    const dir = mkdtempSync(join(tmpdir(), 'kstack-region-values-'));
    try {
      const file = regionValuesFile(
        dir,
        region,
        regionValues(region, role, role === 'primary' ? opts.standby : opts.primary),
      );
      return await stackUp({
        namespace: opts.namespace,
        release: opts.release,
        valuesFiles: [...opts.valuesFiles, file],
        timeoutMs: opts.timeoutMs,
        progress,
        clusterName: region,
        ...extra,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // The standby's cluster and images come up while the primary installs and waits for its members (much of
  // it waiting); the standby's release needs the primary's Secrets, so it installs after. On empty caches the
  // Go programs and images are built first, once: the two lanes would otherwise both start the same builds.
  await prepareLocalStack(progress);
  let primary: StackUpResult | undefined;
  await runLanes(
    `region ${opts.primary} (primary) and region ${opts.standby}'s cluster, side by side`,
    [
      {
        name: opts.primary,
        tasks: [
          async (p) => {
            primary = await stack(opts.primary, 'primary', {
              ...(opts.primaryNodes !== undefined ? { nodes: opts.primaryNodes } : {}),
              progress: p,
            });
          },
        ],
      },
      {
        name: opts.standby,
        tasks: [
          (p) =>
            localClusterWithImages({
              clusterName: opts.standby,
              progress: p,
              ...(opts.standbyNodes !== undefined ? { nodes: opts.standbyNodes } : {}),
            }),
        ],
      },
    ],
    progress,
  );
  if (!primary) throw new Error(`region ${opts.primary}: the install returned nothing`);
  const primaryKube = await regionKube(opts.primary, opts.namespace, progress);
  const standby = await progress.step(`region ${opts.standby} (standby)`, () =>
    stack(opts.standby, 'standby', {
      ...(opts.standbyNodes !== undefined ? { nodes: opts.standbyNodes } : {}),
      beforeInstall: (kube) => copyRegionSecrets(primaryKube, kube, opts.release),
    }),
  );
  const standbyKube = await regionKube(opts.standby, opts.namespace, progress);
  const pair: RegionPair = {
    primary: opts.primary,
    standby: opts.standby,
    epoch,
    fenced: existing?.fenced ?? [],
    namespace: opts.namespace,
    release: opts.release,
    entryPoints: { [opts.primary]: hostOf(primary.page.url), [opts.standby]: hostOf(standby.page.url) },
  };
  await progress.step(`replication ${opts.primary} → ${opts.standby} (GTID, TLS)`, async () => {
    await roleEverywhere(primaryKube, opts.release, opts.primary, 'primary', epoch, 'region up');
    await roleEverywhere(standbyKube, opts.release, opts.standby, 'standby', epoch, 'region up');
    await ensureReplica(primaryKube, opts.primary, standbyKube, opts.standby, opts.release, progress);
    await recordPeers(primaryKube, opts.primary, standbyKube, opts.standby, opts.release);
  });
  // Backups across regions: each region's backup key in the other's namespace, for a restore from the copy.
  await progress.step("backup keys: each region holds the other's (kstack-backup-key-from-<region>)", () =>
    exchangeBackupKeys(
      { region: opts.primary, kube: primaryKube },
      { region: opts.standby, kube: standbyKube },
      opts.release,
    ),
  );
  writePair(pair);
  // The global name: its daemon answers the primary's entry point from now on.
  const dns = await progress.step(`global name ${GLOBAL_NAME} (CoreDNS on 127.0.0.1)`, () =>
    ensureGlobalDns({ ...pair, ...(existing?.dns ? { dns: existing.dns } : {}) }, pairFile()),
  );
  const recorded: RegionPair = { ...pair, dns };
  writePair(recorded);
  return { pair: recorded, primary, standby };
}
