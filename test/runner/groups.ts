// The e2e files run in groups, each group on one local cluster that its files share (bringing a cluster
// up and the stack installed costs minutes each time). Files that break things run last in their group;
// the last file of each group takes the cluster down and checks that nothing is left. Every e2e file
// belongs to exactly one group, so a new file cannot silently not run (test/unit/runner/groups.test.ts).
// The budgets are the CI time each group may take on the 2-core CI machine (docs/testing.md).

export interface E2eGroup {
  name: string;
  /** Local cluster name, unique to the group (its networks derive from it). */
  cluster: string;
  /** Further local clusters the group's files make (a pair of regions' standby), removed after it too. */
  moreClusters?: readonly string[];
  /** File names under test/e2e without `.test.ts`, in the order they run. */
  files: readonly string[];
  budgetMinutes: number;
  /** Runs at the same time as the groups next to it that say so too; otherwise alone, after them. */
  sideBySide: boolean;
  /** Side by side, but only once this group (listed before it) has ended: one lane after the other. */
  after?: string;
  /**
   * CPU niceness of the group's processes and everything they start, its clusters included (1..19): the
   * groups beside it that time drills keep the CPU when both want it.
   */
  nice?: number;
}

export const E2E_GROUPS: readonly E2eGroup[] = [
  {
    // Cluster-level behaviour with pause/probe pods: placement, net1 without the chart, policy
    // enforcement; local-cluster last (it kills kubelet and containerd, then takes the cluster down).
    name: 'nodes',
    cluster: 'e2e-nodes',
    files: ['chart-placement', 'secondary-network', 'netpol', 'local-cluster'],
    // Side by side with the stack group, whose images (monitoring's included) load the same 2 cores.
    budgetMinutes: 10,
    sideBySide: true,
  },
  {
    // The stack as `kstack up` installs it; drills in increasing order of damage; prove last (it breaks
    // rows on purpose and ends with `kstack down --all`).
    name: 'stack',
    cluster: 'e2e-stack',
    files: ['stack', 'dr', 'net1-galera', 'prove'],
    // prove's R11 freezes two nodes 60 s each; R12 drills two alerts; R13 captures a member's rejoin, and the
    // certificate rotation restarts every member under the writer (docs/testing.md).
    budgetMinutes: 30,
    sideBySide: true,
  },
  {
    // Two regions (docs/multi-region.md): a pair of small clusters of its own, `prove --regions` on it (the
    // whole primary stopped and promoted away, the old primary's fence probed, failback, planned failover),
    // then `region down`. In the nodes group's lane, after it, beside the stack group's prove: alone after
    // every group it would add its whole time to the run, and with all three coming up at once the 2 cores
    // starved every group (load average 48, the stack group's first file 3× slower). Niced, so the stack
    // group's timed drills keep the CPU; what the regions group must never see (a write taken by the fenced
    // region, a lost visit) does not depend on speed.
    name: 'regions',
    cluster: 'e2e-east',
    moreClusters: ['e2e-west'],
    files: ['regions'],
    budgetMinutes: 20,
    sideBySide: true,
    after: 'nodes',
    nice: 10,
  },
  {
    // The chart on a cluster kstack did not make: a registry, a cluster that pulls from it, helm test, then
    // `kstack prove --context` with every row, drains included. Alone, after the others: its drills are
    // timed, and a third cluster beside two would starve all three on 2 cores.
    name: 'any-cluster',
    cluster: 'e2e-any',
    files: ['any-cluster'],
    budgetMinutes: 16,
    sideBySide: false,
  },
];

/** The group runs for a set of selected e2e file names; throws naming a file that is in no group or in two. */
export function planE2e(
  selected: readonly string[],
  groups: readonly E2eGroup[] = E2E_GROUPS,
): { group: E2eGroup; files: string[] }[] {
  for (const name of selected) {
    const owners = groups.filter((g) => g.files.includes(name));
    if (owners.length !== 1) {
      throw new Error(
        `e2e file '${name}.test.ts' is in ${
          owners.length === 0 ? 'no group' : `${owners.length} groups (${owners.map((g) => g.name).join(', ')})`
        }: list it in exactly one group in test/runner/groups.ts`,
      );
    }
  }
  return groups
    .map((group) => ({ group, files: group.files.filter((f) => selected.includes(f)) }))
    .filter((p) => p.files.length > 0);
}
