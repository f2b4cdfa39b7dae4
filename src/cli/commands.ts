// What each kstack command accepts: its flags, the flags that cannot go together, and its help text.
// main.ts says what each command does with them. Defaults come from defaults.ts only.
import { PODWATCH_FLAGS, PODWATCH_HELP } from '../podwatch/config.js';
import { REQUIREMENTS } from '../prove/requirements/index.js';
import { REGION_ROWS } from '../prove/regions.js';
import type { CommandSpec, Conflict, Options } from './args.js';
import {
  DEFAULT_CLUSTER,
  DEFAULT_DB_TAINT_FLAG,
  DEFAULT_NAMESPACE,
  DEFAULT_NODE_COUNT,
  DEFAULT_RELEASE,
  DEFAULT_UP_TIMEOUT,
} from './defaults.js';

const spec = <O extends Options>(s: CommandSpec<O>): CommandSpec<O> => s;

const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;
const NAME_FLAG = { name: { type: 'string' } } as const;
const RELEASE_FLAGS = { namespace: { type: 'string', short: 'n' }, release: { type: 'string' } } as const;
/** Which cluster and release a command works on: a kubeconfig context or a local cluster, namespace, release. */
const TARGET_FLAGS = { context: { type: 'string' }, ...NAME_FLAG, ...RELEASE_FLAGS } as const;

const CONTEXT_OR_NAME: Conflict = {
  flag: 'context',
  with: ['name'],
  why: '--context picks a cluster from your kubeconfig, --name a local cluster kstack started',
};

const TARGET_HELP = `  --context NAME   kubeconfig context of the cluster (default: the local cluster started by\
 'kstack up')
  --name CLUSTER   the local cluster's name (default: ${DEFAULT_CLUSTER})
  -n, --namespace  namespace of the release (default: ${DEFAULT_NAMESPACE})
  --release NAME   Helm release (default: ${DEFAULT_RELEASE})
`;

const CLUSTER_USAGE = `  kstack cluster up                     start a local cluster: control plane +\
 ${DEFAULT_NODE_COUNT} nodes, no Docker needed
  kstack cluster up --control-plane     start only a local control plane (etcd, API server, controller-manager,\
 scheduler)
  kstack cluster status                 show what runs and whether it is healthy
  kstack cluster stop                   stop the local cluster, keeping its data (up resumes it)
  kstack cluster down                   stop the local cluster and remove its files
  kstack cluster node restart NODE      restart a node's containerd and node agents (kubelet, kube-proxy,\
 policy engines)
  kstack cluster node stop NODE [--mode freeze|kill]   fail a node on purpose: freeze it (a hung machine) or kill it\
 (power loss)
  kstack cluster node start NODE        bring a stopped node back and wait until it is Ready
`;

const IMAGES_USAGE = `  kstack images build [NAME…] | list    build the local cluster's images from Debian packages
  kstack images push --registry HOST[:PORT][/PREFIX] [NAME…]   push them to a registry;\
 prints chart values that use them
`;

export const USAGE = `kstack — a Kubernetes web + database stack that proves its requirements, and its tools

Usage:
  kstack up [--context NAME]            the main job: local cluster + the stack, page URL, live pod events
  kstack down [--all]                   remove the stack (--all: and the local cluster)
  kstack status [-o json]               the page and podwatch URLs (they outlive kstack) and the workloads
  kstack prove [--only R5,R6]           check every requirement on the running release, with evidence
  kstack watch [flags]                  podwatch: live pod events (see kstack watch --help)
  kstack backup now|list|verify         run a backup, list backups, verify the newest (in the cluster)
  kstack restore [--to-time T | --to-gtid G] [--backup ID] [--into-namespace NS [--lean]]
                                        restore the database (point in time from archived binlogs)
  kstack db rotate-certs                renew the database's TLS certificate; members restart one by one
  kstack region up|status|failover|failback|backups|down
                                        two local clusters as a primary and a standby region (replication)
  kstack setup [--for COMMAND]          install and build what kstack needs, or what one command needs (idempotent,\
 cached)
${CLUSTER_USAGE}${IMAGES_USAGE}
Common flags:
  --name NAME        cluster name (default: ${DEFAULT_CLUSTER})
  -h, --help         help for a command
`;

/** `kstack cluster --help`: the cluster subcommands. */
export const CLUSTER_HELP = `Usage:
${CLUSTER_USAGE}
Each takes --name NAME (default: ${DEFAULT_CLUSTER}); 'kstack cluster SUBCOMMAND --help' shows its flags.
`;

/** `kstack images --help`: the images subcommands. */
export const IMAGES_HELP = `Usage:
${IMAGES_USAGE}`;

export const SETUP = spec({
  name: 'setup',
  options: { for: { type: 'string' }, ...HELP_FLAG },
  help: `kstack setup [--for COMMAND]

Installs and builds what kstack, its tests and its benchmarks use: Debian packages, kubectl and helm,
the Node.js runtime for images, and the Go components. Idempotent; with warm caches it only checks.
Every command installs its own needs before it starts, so this is only needed ahead of time.

  --for COMMAND   only what COMMAND needs (src/setup/needs.ts), e.g. 'cluster up' or bench:dr
`,
});

export const CLUSTER_UP = spec({
  name: 'cluster up',
  options: {
    'control-plane': { type: 'boolean' },
    ...NAME_FLAG,
    'api-port': { type: 'string' },
    kubeconfig: { type: 'string' },
    nodes: { type: 'string' },
    'db-taint': { type: 'string' },
    'no-preload': { type: 'boolean' },
    'registry-ca': { type: 'string' },
    ...HELP_FLAG,
  },
  conflicts: [
    {
      flag: 'control-plane',
      with: ['nodes', 'db-taint', 'no-preload', 'registry-ca'],
      why: '--control-plane starts no nodes',
    },
  ],
  help: `kstack cluster up [--nodes N] [--db-taint key=value:Effect|none] [--no-preload] [--registry-ca\
 HOST[:PORT]=FILE]
                 [--name NAME] [--api-port PORT] [--kubeconfig PATH]
kstack cluster up --control-plane [--name NAME] [--api-port PORT] [--kubeconfig PATH]

Starts a local Kubernetes cluster without Docker: etcd, kube-apiserver, kube-controller-manager and
kube-scheduler as local processes on 127.0.0.1, and N nodes, each a network namespace with its own
containerd, kubelet, kube-proxy, kube-router (NetworkPolicy) and multinet-policy (MultiNetworkPolicy on
secondary networks), plus CoreDNS, a default local-path StorageClass, the NetworkAttachmentDefinition
CRD for secondary networks, and a local S3 server for backups. It reports Ready only after a canary
policy is seen enforced on every node. Everything is built from source or Debian packages on first
use. Running it again on a healthy cluster changes nothing; on a partly stopped cluster it starts what
is missing.

  --nodes N          number of nodes (default ${DEFAULT_NODE_COUNT}: web-1, web-2, db-1, db-2, db-3, which can lose any
                     one node; 4 gives web-1 + 3 db nodes, 3 web-1, db-1, db-2; 1 one untainted node)
  --db-taint T       taint on db nodes (default ${DEFAULT_DB_TAINT_FLAG}; 'none' for no taint)
  --no-preload       side-load none of the stack's images: workloads pull them from a registry, as on a
                     cluster kstack did not make (see 'kstack images push'); fixed when the cluster is created
  --registry-ca HOST[:PORT]=FILE
                     the nodes trust FILE (PEM) as the CA of the registry HOST[:PORT] (added to a running cluster too)
  --control-plane    only the control plane (no nodes)
  --name NAME        cluster name (default: ${DEFAULT_CLUSTER})
  --api-port PORT    API server port (default: a free port)
  --kubeconfig PATH  also write the admin kubeconfig to PATH (removed by 'down')
`,
});

export const CLUSTER_DOWN = spec({
  name: 'cluster down',
  options: { ...NAME_FLAG, ...HELP_FLAG },
  help: 'kstack cluster down [--name NAME]\n\nStops every process of the cluster and removes its files.\n',
});

export const CLUSTER_STOP = spec({
  name: 'cluster stop',
  options: { ...NAME_FLAG, ...HELP_FLAG },
  help:
    'kstack cluster stop [--name NAME]\n\nStops every process of the ' +
    "cluster and keeps its data; 'kstack cluster up' resumes it.\n",
});

export const CLUSTER_STATUS = spec({
  name: 'cluster status',
  options: { ...NAME_FLAG, output: { type: 'string', short: 'o' }, ...HELP_FLAG },
  help: 'kstack cluster status [--name NAME] [-o json]\n',
});

export const CLUSTER_NODE = spec({
  name: 'cluster node',
  options: { ...NAME_FLAG, mode: { type: 'string' }, ...HELP_FLAG },
  operands: true,
  help: `kstack cluster node restart NODE [--name NAME]
kstack cluster node stop NODE [--mode freeze|kill] [--name NAME]
kstack cluster node start NODE [--name NAME]

restart  restarts the node's containerd and node agents (kubelet, kube-proxy, kube-router,
         multinet-policy); its containers keep running.
stop     fails the node on purpose, for drills. --mode freeze (the default) stops every process of the
         node, agents and containers, as a hung or partitioned machine; --mode kill kills them all at
         once, as a power loss (the nodes share this machine's kernel, so its network and files stay).
start    brings a stopped node back (thaws it, or restarts its agents) and waits until it is Ready.
`,
});

export const UP = spec({
  name: 'up',
  options: {
    context: { type: 'string' },
    ...RELEASE_FLAGS,
    values: { type: 'string', short: 'f', multiple: true },
    timeout: { type: 'string' },
    detach: { type: 'boolean' },
    'no-watch': { type: 'boolean' },
    'alert-webhook': { type: 'string', multiple: true },
    'alert-slack': { type: 'string', multiple: true },
    'with-monitoring': { type: 'boolean' },
    ...HELP_FLAG,
  },
  help: `kstack up [--context NAME [--with-monitoring]] [--namespace NS] [--release NAME] [-f values.yaml]… [--timeout\
 ${DEFAULT_UP_TIMEOUT}]
          [--detach] [--alert-webhook URL]… [--alert-slack URL[#channel]]…

The main job. Without --context: brings up the local cluster (or reuses the running one), builds and
imports the stack's images, installs the webstack chart with its local values, waits for every
workload, then prints the page URL and the podwatch view URL and streams pod events until Ctrl-C.
On the local cluster the URLs are load-balancer addresses on the cluster's bridge: they keep working
after kstack exits ('kstack status' prints them again). A release whose Services are not of type
LoadBalancer is reached through port-forwards on 127.0.0.1 that end with this command. With --context:
deploys to that existing cluster with the values files given (the images 'kstack images push' put in a
registry: pass the file it wrote with -f).
The local cluster also gets Prometheus, Alertmanager and a health page (namespace monitoring), which
read the release's PodMonitors and PrometheusRule; their URLs are printed with the page's.

  --with-monitoring     with --context: run the same monitoring there, its images named by the -f file
                        of 'kstack images push' (the release's image pull Secrets are copied to it)
  --detach              exit after printing the URLs (--no-watch is the same)
  --alert-webhook URL   send alerts (firing and resolved) to this webhook, Alertmanager's JSON format;
                        repeat for more. Given at all, these flags replace the destinations set before.
  --alert-slack URL     send alerts to a Slack incoming-webhook URL; '#channel' after the URL picks the
                        channel (e.g. https://hooks.example/T/B/X#ops)
`,
});

export const DOWN = spec({
  name: 'down',
  options: { context: { type: 'string' }, ...RELEASE_FLAGS, all: { type: 'boolean' }, ...HELP_FLAG },
  conflicts: [
    {
      flag: 'all',
      with: ['context'],
      why: '--all also removes the local cluster, and --context names another cluster',
    },
  ],
  help:
    'kstack down [--context NAME] [--namespace NS] [--release NAME] ' +
    '[--all]\n\nRemoves the release; --all also removes the local cluster.\n',
});

export const STATUS = spec({
  name: 'status',
  options: { ...TARGET_FLAGS, output: { type: 'string', short: 'o' }, ...HELP_FLAG },
  conflicts: [CONTEXT_OR_NAME],
  help: `kstack status [--context NAME | --name CLUSTER] [-n NS] [--release NAME] [-o text|json]

Where the running release is reached, at any time: the page URL and the podwatch view URL (keys
pageUrl and podwatchUrl in -o json) when the Services have load-balancer addresses, and how many
replicas of each workload are ready. Exits 0 when the page URL is known and every workload is ready.

${TARGET_HELP}`,
});

export const PROVE = spec({
  name: 'prove',
  options: {
    ...TARGET_FLAGS,
    only: { type: 'string' },
    'allow-skip': { type: 'string' },
    report: { type: 'string' },
    prometheus: { type: 'string' },
    alertmanager: { type: 'string' },
    regions: { type: 'boolean' },
    ...HELP_FLAG,
  },
  conflicts: [CONTEXT_OR_NAME],
  help: `kstack prove [--context NAME | --name CLUSTER] [-n NS] [--release NAME] [--only R1,R5] [--allow-skip R6]\
 [--report DIR]
             [--prometheus URL --alertmanager URL]

Checks each requirement on the installed release, against the real cluster, and shows for each row
what was checked, how, the evidence, and pass / fail / skipped-with-reason. The release's values say
what it asks for (replicas, components, placement, backup objectives); a row skips only for a
component the values turn off (e.g. backup.enabled=false), and a skip is never a pass: the run is
INCOMPLETE unless you accept that row's skip with --allow-skip. What the cluster lacks (no enforcing
policy engine, no Multus) fails its row. R2, R3, R6, R9, R11 and R13 change the release while they
run (a db pod deleted, a config rolled out under load, a backup restored into a throw-away namespace,
web scaled, nodes stopped, a member restarted under a traffic capture) and restore it. Every row waits (at most 5 min)\
 for the release to settle first.

Exit status: 0 every row passed (or skipped where allowed), 1 a row failed, 2 a row skipped unasked.

Rows: ${REQUIREMENTS.map((r) => `${r.id} ${r.title}`).join('; ')}.

${TARGET_HELP}  --only IDS       only these rows, comma-separated (e.g. R5,R6)
  --allow-skip IDS accept these rows' skips (comma-separated); the skip and its reason are still shown
  --report DIR     where report.md, report.json and screenshot.png go (default: out/prove-<UTC time>/)
  --prometheus URL --alertmanager URL
                   the Prometheus and Alertmanager that scrape the release and route its alerts (R12);
                   default: kstack's monitoring (namespace monitoring) when the cluster runs it

On a cluster kstack did not make (--context), R11 takes each node out by cordon and drain instead of
stopping it.

kstack prove --regions [--report DIR]
  the two-region drills on the pair 'kstack region up' made, judged against their objectives, under a
  writer through the global name: ${REGION_ROWS.map((r) => `${r.id} ${r.title}`).join('; ')}. The whole
  primary region is stopped and started again; the pair ends with the roles it had (about 5 min).
`,
});

export const WATCH = spec({ name: 'watch', options: PODWATCH_FLAGS, help: PODWATCH_HELP });

/** `kstack backup now|list|verify`: the subcommand picks the task; errors name it ('backup now'). */
export const BACKUP = spec({
  name: 'backup',
  options: { ...TARGET_FLAGS, ...HELP_FLAG, 'from-region': { type: 'string' } },
  conflicts: [CONTEXT_OR_NAME],
  help: `kstack backup now | list | verify [--context NAME | --name CLUSTER] [-n NS] [--release NAME]
                                   [--from-region REGION]

Runs a disaster-recovery task of an installed webstack release (backup.enabled=true) in the cluster,
as a Job made from the release's backup CronJob, shows its progress and prints its result:

  now      a backup now: dump of a Synced member, compressed, encrypted, uploaded with its manifest
  list     the backups in the storage (id, size, GTID position, verification)
  verify   restore the newest backup into a throw-away MariaDB and compare it with its manifest

  --from-region R       list or verify the copy of region R's backups that this region's S3 server
                        holds (bucket kstack-backups-from-R, R's backup key; docs/multi-region.md)
${TARGET_HELP}`,
});

export const RESTORE = spec({
  name: 'restore',
  options: {
    ...TARGET_FLAGS,
    ...HELP_FLAG,
    'to-time': { type: 'string' },
    'to-gtid': { type: 'string' },
    backup: { type: 'string' },
    'into-namespace': { type: 'string' },
    lean: { type: 'boolean' },
    'from-region': { type: 'string' },
  },
  conflicts: [
    CONTEXT_OR_NAME,
    { flag: 'to-time', with: ['to-gtid'], why: 'a restore stops at a point in time or after a GTID' },
  ],
  help: `kstack restore [--to-time T | --to-gtid G] [--backup ID] [--into-namespace NS [--lean]]
               [--from-region REGION] [--context NAME | --name CLUSTER] [-n NS] [--release NAME]

Restores the release's database from its backups: the backup given (or the newest one before the
target), then the archived binlogs up to the target. Without a target: as far as the archive goes.
Runs as the chart's restore Job and follows it.

  --to-time T           point in time, ISO 8601 with a zone (2026-11-25T18:30:00Z) or unix seconds;
                        transactions at or after T are not applied
  --to-gtid G           last transaction to apply (domain-server-seq, e.g. 0-1-4711)
  --backup ID           base backup (see 'kstack backup list'); default: the newest before the target
  --into-namespace NS   restore into a copy of the release in namespace NS (installed with the same
                        values; the backup key and storage Secrets are copied) and leave the
                        original untouched
  --lean                with --into-namespace: the copy runs a standalone db (no Galera), one web
                        replica and no podwatch (a cheap drill: read the restored data, then delete NS)
  --from-region R       restore from the copy of region R's backups on this region's S3 server (bucket
                        kstack-backups-from-R, R's backup key): R's data in the other region of a pair
${TARGET_HELP}`,
});

export const DB_ROTATE_CERTS = spec({
  name: 'db rotate-certs',
  options: { ...TARGET_FLAGS, ...HELP_FLAG },
  conflicts: [CONTEXT_OR_NAME],
  help: `kstack db rotate-certs [--context NAME | --name CLUSTER] [-n NS] [--release NAME]

Renews the server certificate of the release's database (db.tls) without downtime: helm upgrade with
the next db.tls.rotation issues a new certificate from the chart's CA, and the members restart one by
one under the PodDisruptionBudget, each Synced before the next goes. Clients trust the CA, so they keep
working. Then every member is asked, over TLS, which certificate it serves; all must serve the new one.
With db.tls.existingSecret, renew that Secret first (e.g. cert-manager does): this command then rolls
the members onto it.

${TARGET_HELP}`,
});

export const IMAGES_BUILD = spec({
  name: 'images build',
  options: { ...HELP_FLAG },
  operands: true,
  help:
    "kstack images build [NAME…]\n\nBuilds the local cluster's images from Debian " +
    "packages (every image without NAME) and prints each one's reference and folder.\n",
});

export const IMAGES_LIST = spec({
  name: 'images list',
  options: { ...HELP_FLAG },
  help: 'kstack images list\n\nLists each image of the local cluster with the Debian packages it is made of.\n',
});

export const IMAGES_PUSH = spec({
  name: 'images push',
  options: {
    registry: { type: 'string' },
    username: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    'ca-file': { type: 'string' },
    'pull-secret': { type: 'string' },
    output: { type: 'string', short: 'o' },
    ...HELP_FLAG,
  },
  operands: true,
  help: `kstack images push --registry HOST[:PORT][/PREFIX] [--username U --password-stdin] [--ca-file PEM]
                   [--pull-secret NAME] [-o FILE] [NAME…]

Builds the stack's images (cached; without NAME: nginx, node, mariadb, monitoring; NAME can be any
image of 'kstack images list') and pushes each
to HOST[:PORT][/PREFIX]/NAME:VERSION-KEY with skopeo, over HTTPS with certificate checks. KEY is the
image's build key, which changes whenever the image's content does. Then prints a Helm values file for
charts/webstack that runs the pushed images, pinned by digest (image keys only: add your own values),
and on stderr each pushed reference with its digest. The monitoring image, which is not a chart value,
is reported in the file's comment line '# kstack monitoring image: REPOSITORY@DIGEST'. A failed push
names the image and the registry's answer and exits non-zero, with no values printed.

  --registry R       where to push: HOST[:PORT][/PREFIX], lowercase (e.g. registry.example:5000/team)
  --username U       user name for the registry; needs --password-stdin
  --password-stdin   read the password from stdin (never from the command line); without --username,
                     the logins this machine already has are used
  --ca-file PEM      the CA that signed the registry's certificate (besides the system's CAs)
  --pull-secret NAME the values name this docker-registry Secret in global.imagePullSecrets; the
                     command that creates it is printed on stderr
  -o, --output FILE  write the values file to FILE instead of stdout
`,
});

/** Every command with flags, for the tests: each one's --help prints its help, which names its flags. */

const REGION_FLAGS = { ...RELEASE_FLAGS, ...HELP_FLAG } as const;
const REGION_RELEASE_HELP =
  `  -n, --namespace NS    the release's namespace in both regions (default ${DEFAULT_NAMESPACE})\n` +
  `  --release NAME        the release in both regions (default ${DEFAULT_RELEASE})\n`;

export const REGION_UP = spec({
  name: 'region up',
  options: {
    primary: { type: 'string' },
    standby: { type: 'string' },
    'primary-nodes': { type: 'string' },
    'standby-nodes': { type: 'string' },
    values: { type: 'string', short: 'f', multiple: true },
    timeout: { type: 'string' },
    ...REGION_FLAGS,
  },
  help: `kstack region up --primary NAME --standby NAME [--primary-nodes N] [--standby-nodes N]
                 [-f values.yaml]… [--timeout ${DEFAULT_UP_TIMEOUT}]

Two local clusters named after the regions, each with the stack ('kstack up'), as one pair: the primary
takes writes; the standby's database applies the primary's changes by GTID replication over TLS (its own
account, through the primary's load-balancer address only) and refuses the app's writes until promoted.
The page of each region says which region served it. Idempotent. See docs/multi-region.md.

  --primary NAME        the region that takes writes (a cluster of this name)
  --standby NAME        the region that follows it
  --primary-nodes N     nodes of the primary's cluster (default ${DEFAULT_NODE_COUNT}, which can lose a node)
  --standby-nodes N     nodes of the standby's cluster (default ${DEFAULT_NODE_COUNT}; it may be smaller)
  -f, --values FILE     more chart values for both regions' releases
  --timeout D           how long each region's release may take to become ready
${REGION_RELEASE_HELP}`,
});

export const REGION_STATUS = spec({
  name: 'region status',
  options: { output: { type: 'string', short: 'o' }, ...HELP_FLAG },
  help: `kstack region status [-o json]

Each region's role (primary, standby, fenced), whether its database refuses writes, its replica (running,
seconds behind, last error) and how many of the primary's transactions the standby still lacks; what the
global name answers; and the last round of the copy of the primary's backups ('kstack region backups').
Exit status 0 when the standby replicates, 3 otherwise.

  -o, --output json     the same as JSON
`,
});

export const REGION_FAILOVER = spec({
  name: 'region failover',
  options: {
    planned: { type: 'boolean' },
    unplanned: { type: 'boolean' },
    force: { type: 'boolean' },
    timeout: { type: 'string' },
    ...HELP_FLAG,
  },
  help: `kstack region failover --planned | --unplanned [--force] [--timeout 2m]

Makes the standby the primary.
--planned (a switchover, both regions up): writes stop in the primary, the standby catches up with every
transaction it had (no acknowledged write is lost), is promoted and takes writes, and the old primary
follows it as the new standby. Refuses when the standby is not replicating, or is more than 30 s behind
(writes would stop until it caught up) unless forced. When the standby does not catch up within --timeout,
the primary takes writes again and nothing changes.
--unplanned (the primary region is lost): the standby applies every transaction it had received, is
promoted at a new epoch, and the old primary is fenced: the global name never answers it, and when it
comes back its members see the newer primary and take no write. Writes the primary took that the standby
had not received are lost (the RPO). Refuses while the primary still answers, and when the standby
cannot apply what it received. Afterwards, 'kstack region failback' makes the old primary a standby.

  --planned             both regions are up: switch over without losing a write
  --unplanned           the primary is lost: promote the standby and fence the old primary
  --force               with --planned: even if the standby is more than 30 s behind (still no write
                        lost); with --unplanned: even if the primary answers (it is fenced now) or the
                        standby cannot apply everything it received
  --timeout D           how long the standby may take to catch up (default 2m)
`,
});

export const REGION_FAILBACK = spec({
  name: 'region failback',
  options: { timeout: { type: 'string' }, ...HELP_FLAG },
  help: `kstack region failback [--timeout 10m]

After an unplanned failover: makes the fenced old primary the standby of the new primary. Its app database
is replaced by one consistent copy of the new primary's (writes it took that never reached the new primary
are dropped), and it replicates from there. Then 'kstack region failover --planned' gives it the primary
role back without losing a write.

  --timeout D           how long the re-seeded region may take to catch up (default 10m)
`,
});

export const REGION_DOWN = spec({
  name: 'region down',
  options: { region: { type: 'string', multiple: true }, ...HELP_FLAG },
  help: `kstack region down [--region NAME]…

Removes the pair of regions from this machine: the global name's DNS server, both regions' local clusters
(their stacks, data and S3 servers with them) and the pair's files. Safe to run again. --region also removes
a region's cluster when the pair file is gone (e.g. after an interrupted 'kstack region up').

  --region NAME         a region's cluster to remove besides the pair's (repeatable)
`,
});

export const REGION_BACKUPS = spec({
  name: 'region backups',
  options: { now: { type: 'boolean' }, output: { type: 'string', short: 'o' }, ...HELP_FLAG },
  help: `kstack region backups [--now] [-o json]

Backups across regions: the global name's daemon copies the primary region's backup bucket into the bucket
kstack-backups-from-PRIMARY on the standby region's S3 server every 30 s (only what the copy lacks; a backup
the primary's retention removed goes from the copy too, nothing else). Shows when the last round finished,
what it copied and the last complete one. Exit status 0 when the last round left nothing pending, 3
otherwise. Restore from the copy with 'kstack restore --name STANDBY --from-region PRIMARY'.

  --now                 run a round now, here, and show it
  -o, --output json     the same as JSON
`,
});

/** Every command spec, for the help and parsing tests. */
export const COMMANDS: readonly CommandSpec[] = [
  SETUP,
  CLUSTER_UP,
  CLUSTER_DOWN,
  CLUSTER_STOP,
  CLUSTER_STATUS,
  CLUSTER_NODE,
  UP,
  DOWN,
  PROVE,
  WATCH,
  BACKUP,
  RESTORE,
  DB_ROTATE_CERTS,
  IMAGES_BUILD,
  IMAGES_LIST,
  IMAGES_PUSH,
  REGION_UP,
  REGION_STATUS,
  REGION_FAILOVER,
  REGION_FAILBACK,
  REGION_BACKUPS,
  REGION_DOWN,
];
