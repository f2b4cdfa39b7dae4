// What each kstack command needs installed, declared once, and the edge that installs it before the
// command starts any long work. test/unit/setup/needs.test.ts holds this declaration against the code:
// it walks the imports of each command's entry modules, collects the programs they run, maps them with
// `programProviders` below, and fails when a command's needs do not cover them.
import type { Progress } from '../util/progress.js';
import { ensureDebianPackages } from './debian.js';
import { ensureGoBinaries } from './go-build.js';
import { controlPlaneComponents, goComponents, nodeComponents, type GoComponentName } from './go-components.js';
import { ensureKubectlAndHelm, ensureNodeRuntime, type ClientBinaries } from './kubectl-layer.js';
import { loadVersions } from './versions.js';

/**
 * The package groups of tools/versions.json (`debianPackages`). `imagePush`: skopeo, for `images push`.
 * `monitoring` and `registry` (the tests' OCI registry, test/helpers/registry.ts, and htpasswd for its
 * users) and `capture` (tcpdump, which shows the db's replication is encrypted) only the tests use: `kstack setup`
 * installs every group. `db` has openssl: the loopback members' certificates, and the SST scripts check them.
 */
export type DebianGroup =
  'web' | 'controlPlane' | 'podwatch' | 'db' | 'monitoring' | 'nodes' | 'images' | 'imagePush' | 'registry' | 'capture';

export interface CommandNeeds {
  /** Modules (from the repository root) whose code the command runs; the unit test walks their imports. */
  entries: readonly string[];
  debian: readonly DebianGroup[];
  /** Go components the command builds (they are built where they are used, or by `setup --for`). */
  go: readonly GoComponentName[];
  /** kubectl and helm from the pinned npm package. */
  kubectlHelm: boolean;
  /** The pinned Node.js runtime that goes into the images of our TypeScript programs. */
  nodeRuntime: boolean;
  /**
   * Set for commands that only stop or look at what an earlier `up` made: they install nothing (that
   * `up` installed what they run; without a cluster they return before running anything), so the test
   * does not hold them to their imports.
   */
  installsNothing?: string;
}

const allGroups: readonly DebianGroup[] = [
  'web',
  'controlPlane',
  'podwatch',
  'db',
  'monitoring',
  'nodes',
  'images',
  'imagePush',
  'registry',
  'capture',
];
const allGo = Object.keys(goComponents) as GoComponentName[];
// The local cluster: control plane, nodes (with their images), and MinIO as its local S3 (cluster-nodes.ts).
const clusterGo: readonly GoComponentName[] = [...controlPlaneComponents, ...nodeComponents, 'minio'];
const none = { debian: [], go: [], kubectlHelm: false, nodeRuntime: false } as const;
const onlyWhatUpMade = 'stops, removes or reads only what an earlier up made, with the programs that up installed';

export const commandNeeds = {
  up: {
    entries: ['src/stack/up.ts', 'src/podwatch/run.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  down: { entries: ['src/stack/up.ts'], ...none, installsNothing: onlyWhatUpMade },
  // --control-plane takes the same code path (control-plane.ts), so it is held to the same needs.
  'cluster up': {
    entries: ['src/cluster/control-plane.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  // restart, stop and start: stop needs only what the cluster has, start may restart containerd and agents.
  'cluster node': {
    entries: ['src/cluster/control-plane.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  'cluster down': { entries: ['src/cluster/control-plane.ts'], ...none, installsNothing: onlyWhatUpMade },
  'cluster stop': { entries: ['src/cluster/control-plane.ts'], ...none, installsNothing: onlyWhatUpMade },
  status: { entries: ['src/stack/status.ts'], ...none, installsNothing: onlyWhatUpMade },
  'cluster status': { entries: ['src/cluster/status.ts'], ...none, installsNothing: onlyWhatUpMade },
  'images build': {
    entries: ['src/images/build.ts'],
    // controlPlane: unzip and ca-certificates, with which the pinned npm packages are fetched.
    debian: ['controlPlane', 'images'],
    go: ['pause', 'coredns'],
    kubectlHelm: false,
    nodeRuntime: true,
  },
  // Builds like `images build`, then copies each image to a registry with skopeo.
  'images push': {
    entries: ['src/images/push.ts'],
    debian: ['controlPlane', 'images', 'imagePush'],
    go: ['pause', 'coredns'],
    kubectlHelm: false,
    nodeRuntime: true,
  },
  // backup and restore run as Jobs in the cluster; on this host they only drive kubectl and helm.
  backup: {
    entries: ['src/stack/dr.ts', 'src/prove/target.ts'],
    debian: ['controlPlane'],
    go: [],
    kubectlHelm: true,
    nodeRuntime: false,
  },
  restore: {
    entries: ['src/stack/dr.ts', 'src/prove/target.ts'],
    debian: ['controlPlane'],
    go: [],
    kubectlHelm: true,
    nodeRuntime: false,
  },
  // Two regions: what `up` needs, twice (src/region/regions.ts calls stackUp for each).
  'region up': {
    entries: ['src/region/region-up.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  // status and failover talk to the two clusters' databases through kubectl; connecting a replica also
  // links the two clusters' bridges (ip, sysctl, iptables: the nodes group).
  'region status': {
    entries: ['src/region/regions.ts'],
    debian: ['controlPlane', 'nodes'],
    go: [],
    kubectlHelm: true,
    nodeRuntime: false,
  },
  'region failover': {
    entries: ['src/region/regions.ts'],
    debian: ['controlPlane', 'nodes'],
    go: [],
    kubectlHelm: true,
    nodeRuntime: false,
  },
  'region failback': {
    entries: ['src/region/regions.ts'],
    debian: ['controlPlane', 'nodes'],
    go: [],
    kubectlHelm: true,
    nodeRuntime: false,
  },
  // Stops the pair's daemon (a process kstack started) and takes both clusters down, like 'cluster down'.
  'region down': { entries: ['src/region/region-down.ts'], ...none, installsNothing: onlyWhatUpMade },
  // Renews the db's certificate through helm and watches the rollout with kubectl.
  'db rotate-certs': {
    entries: ['src/stack/certs.ts', 'src/prove/target.ts'],
    debian: ['controlPlane'],
    go: [],
    kubectlHelm: true,
    nodeRuntime: false,
  },
  // R4 screenshots the page with the host's Chromium.
  prove: {
    entries: ['src/prove/run.ts', 'src/prove/requirements/index.ts'],
    debian: ['controlPlane', 'web'],
    go: [],
    kubectlHelm: true,
    nodeRuntime: false,
  },
  // The region drills stop a whole region's cluster and start it again (cluster up), then fail back.
  'prove --regions': {
    entries: ['src/prove/regions.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  watch: { entries: ['src/podwatch/run.ts'], ...none },
  // npm run chart:docs: charts/webstack/README.md from values.yaml, written by helm-docs (src/setup/helm-docs.ts).
  'chart:docs': {
    entries: ['src/setup/helm-docs.ts'],
    debian: [],
    go: ['helm-docs'],
    kubectlHelm: false,
    nodeRuntime: false,
  },
  // Everything: what the stack, its tests and its benchmarks use.
  setup: { entries: [], debian: allGroups, go: allGo, kubectlHelm: true, nodeRuntime: true },
  'bench:cluster': {
    entries: ['bench/cluster.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  'bench:web': {
    entries: ['bench/web.ts'],
    debian: ['controlPlane', 'web'],
    go: [],
    kubectlHelm: true,
    nodeRuntime: false,
  },
  'bench:podwatch': {
    entries: ['bench/podwatch.ts'],
    debian: ['controlPlane', 'nodes', 'images', 'podwatch'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  'bench:db': { entries: ['bench/db.ts'], debian: ['db'], go: [], kubectlHelm: false, nodeRuntime: false },
  'bench:dr': { entries: ['bench/dr.ts'], debian: ['db'], go: ['minio'], kubectlHelm: false, nodeRuntime: false },
  'bench:netpol': {
    entries: ['bench/netpol.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  // A fresh clone's `./kstack up` with every cache empty (scripts/first-run-bench.sh): what `up` needs.
  'bench:first-run': {
    entries: ['src/stack/up.ts', 'src/podwatch/run.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  'bench:failover': {
    entries: ['bench/failover.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  'bench:regions': {
    entries: ['bench/regions.ts'],
    debian: ['controlPlane', 'nodes', 'images'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
  'bench:up': {
    entries: ['bench/up.ts'],
    debian: ['controlPlane', 'nodes', 'images', 'web'],
    go: clusterGo,
    kubectlHelm: true,
    nodeRuntime: true,
  },
} as const satisfies Record<string, CommandNeeds>;

export type CommandName = keyof typeof commandNeeds;

export const commandNames = Object.keys(commandNeeds) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandNeeds, name);
}

/**
 * What provides each program kstack runs on this host. `base`: on every Debian system (dpkg marks the
 * package Essential) or a prerequisite of kstack itself, so nothing installs it. Go components and
 * kubectl/helm are added below.
 */
export type Provider = { debian: string } | { go: GoComponentName } | { client: 'kubectl' | 'helm' } | { base: string };

export const programProviders: Readonly<Record<string, Provider>> = {
  sh: { base: 'dash (Essential)' },
  bash: { base: 'bash (Essential)' },
  tar: { base: 'tar (Essential)' },
  cp: { base: 'coreutils (Essential)' },
  nsenter: { base: 'util-linux (Essential)' },
  // bench/result.ts stamps each result with the commit; kstack runs from a git clone (README quick start).
  git: { base: 'git: the checkout kstack runs from is a clone' },
  'dpkg-query': { base: 'dpkg (Essential)' },
  'apt-get': { base: 'apt: how anything gets installed' },
  'apt-cache': { base: 'apt: how anything gets installed' },
  node: { base: 'Node.js runs kstack itself' },
  npm: { base: 'comes with the Node.js that runs kstack' },
  go: { base: 'the Go toolchain of the prerequisites (README); go-build.ts checks its version' },
  openssl: { debian: 'openssl' },
  unzip: { debian: 'unzip' },
  ip: { debian: 'iproute2' },
  sysctl: { debian: 'procps' },
  umount: { debian: 'mount' },
  mount: { debian: 'mount' },
  iptables: { debian: 'iptables' },
  'iptables-restore': { debian: 'iptables' },
  ipset: { debian: 'ipset' },
  containerd: { debian: 'containerd' },
  ctr: { debian: 'containerd' },
  runc: { debian: 'runc' },
  'cni-plugins': { debian: 'containernetworking-plugins' },
  mmdebstrap: { debian: 'mmdebstrap' },
  zstd: { debian: 'zstd' },
  nginx: { debian: 'nginx' },
  wrk: { debian: 'wrk' },
  chromium: { debian: 'chromium' },
  mariadbd: { debian: 'mariadb-server' },
  'mariadb-install-db': { debian: 'mariadb-server' },
  mariadb: { debian: 'mariadb-client' },
  'mariadb-dump': { debian: 'mariadb-client' },
  'mariadb-binlog': { debian: 'mariadb-client' },
  'mariadb-backup': { debian: 'mariadb-backup' },
  mbstream: { debian: 'mariadb-backup' },
  sysbench: { debian: 'sysbench' },
  socat: { debian: 'socat' },
  rsync: { debian: 'rsync' },
  skopeo: { debian: 'skopeo' },
  // The tests' OCI registry and its users file (test/helpers/registry.ts).
  'docker-registry': { debian: 'docker-registry' },
  htpasswd: { debian: 'apache2-utils' },
  // The db TLS test's capture of Galera traffic (test/integration/galera/tls.test.ts).
  tcpdump: { debian: 'tcpdump' },
  kubectl: { client: 'kubectl' },
  helm: { client: 'helm' },
  ...Object.fromEntries(allGo.map((name): [string, Provider] => [name, { go: name }])),
};

/** Programs that programs kstack starts run in turn (not visible in kstack's code): needed with them. */
export const programUses: Readonly<Record<string, readonly string[]>> = {
  // The CRI runtime it is configured with, and Debian's CNI plugins (multinet.ts links /usr/lib/cni).
  containerd: ['runc', 'cni-plugins'],
  kubelet: ['mount', 'umount'],
  'kube-proxy': ['iptables', 'iptables-restore'],
  'kube-router': ['iptables', 'ipset'],
  'multinet-policy': ['nsenter', 'iptables-restore'],
  // Galera's rsync SST (wsrep_sst_rsync) runs rsync and socat beside the server.
  mariadbd: ['rsync', 'socat'],
};

export interface ResolvedNeeds {
  debianPackages: string[];
  go: GoComponentName[];
  kubectlHelm: boolean;
  nodeRuntime: boolean;
}

/** A command's needs as flat lists (Debian packages in group order, without repeats). */
export function resolveNeeds(command: CommandName, groups: Readonly<Record<string, readonly string[]>>): ResolvedNeeds {
  const needs: CommandNeeds = commandNeeds[command];
  const debianPackages: string[] = [];
  for (const group of needs.debian) {
    const packages = groups[group];
    if (!packages)
      throw new Error(`tools/versions.json has no debianPackages.${group}, which '${command}' needs; add the group`);
    for (const p of packages) if (!debianPackages.includes(p)) debianPackages.push(p);
  }
  return { debianPackages, go: [...new Set(needs.go)], kubectlHelm: needs.kubectlHelm, nodeRuntime: needs.nodeRuntime };
}

/**
 * Installs what `command` needs before it starts: Debian packages first (a missing one fails within
 * seconds, not after the Go builds), then kubectl/helm and the Node.js runtime for images. Go
 * components are built where they are used, unless `buildGo` asks for them here. Seconds on a warm
 * machine: dpkg-query and file checks.
 */
export async function ensureNeeds(
  command: CommandName,
  progress: Progress,
  opts: { buildGo?: boolean } = {},
): Promise<Partial<ClientBinaries> & { go: Partial<Record<GoComponentName, string>> }> {
  const needs = resolveNeeds(command, loadVersions().debianPackages);
  await ensureDebianPackages(needs.debianPackages, progress);
  const clients = needs.kubectlHelm ? await ensureKubectlAndHelm(progress) : {};
  if (needs.nodeRuntime) await ensureNodeRuntime(progress);
  const go = opts.buildGo && needs.go.length ? await ensureGoBinaries(needs.go, progress) : {};
  return { ...clients, go };
}

/** `kstack setup`: everything kstack, its tests and its benchmarks use, Go components included. */
export async function ensureAllTools(
  progress: Progress,
): Promise<ClientBinaries & { go: Record<GoComponentName, string> }> {
  await ensureNeeds('setup', progress);
  const go = await ensureGoBinaries(allGo, progress);
  return { ...(await ensureKubectlAndHelm(progress)), go };
}
