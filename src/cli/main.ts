#!/usr/bin/env node
// The kstack command: parses flags, calls the modules that do the work, prints their results.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { controlPlaneDown, controlPlaneStatus, controlPlaneStop, controlPlaneUp, DEFAULT_CLUSTER, restartNode } from '../cluster/control-plane.js';
import { buildImage } from '../images/build.js';
import { imageRecipes, type ImageName } from '../images/recipes.js';
import { commandNames, ensureAllTools, ensureNeeds, isCommandName } from '../setup/needs.js';
import { UserError, messageOf } from '../util/errors.js';
import { createProgress, formatDuration } from '../util/progress.js';
import { parseFlags, portFlag } from './args.js';
import { formatStatus } from './format.js';
import { stackDown, stackUp } from '../stack/up.js';
import { PODWATCH_FLAGS, PODWATCH_HELP, parsePodwatchConfig } from '../podwatch/config.js';
import { runPodwatch } from '../podwatch/run.js';
import { defaultNodeSettings } from '../cluster/nodes/cluster-nodes.js';
import { parseTaint } from '../cluster/nodes/plan.js';
import type { NodeSettings } from '../cluster/state.js';
import { REQUIREMENTS } from '../prove/requirements/index.js';
import { defaultReportDir, exitStatusOf, prepareReportDir, resolveTarget, runProve, selectRows, writeReport } from '../prove/run.js';
import { renderTable } from '../prove/report.js';
import { checkRestoreRequest, runDrTask, runRestoreJob, type DrTask } from '../stack/dr.js';

function nodeSettingsFromFlags(nodes: string | undefined, dbTaint: string | undefined): NodeSettings {
  const count = nodes === undefined ? undefined : /^\d+$/.test(nodes) ? Number(nodes) : NaN;
  if (count !== undefined && Number.isNaN(count)) throw new UserError(`--nodes '${nodes ?? ''}' is not a number: use a whole number from 1 to 9`);
  const settings = defaultNodeSettings(count);
  if (dbTaint === 'none') return { count: settings.count };
  return dbTaint === undefined ? settings : { count: settings.count, dbTaint: parseTaint('db-taint', dbTaint) };
}

const USAGE = `kstack — a Kubernetes web + database stack that proves its requirements, and its tools

Usage:
  kstack up [--context NAME]            the main job: local cluster + the stack, page URL, live pod events
  kstack down [--all]                   remove the stack (--all: and the local cluster)
  kstack prove [--only R5,R6]           check every requirement on the running release, with evidence
  kstack watch [flags]                  podwatch: live pod events (see kstack watch --help)
  kstack backup now|list|verify         run a backup, list backups, verify the newest (in the cluster)
  kstack restore [--to-time T | --to-gtid G] [--backup ID] [--into-namespace NS [--lean]]
                                        restore the database (point in time from archived binlogs)
  kstack setup [--for COMMAND]          install and build what kstack needs, or what one command needs (idempotent, cached)
  kstack cluster up                     start a local cluster: control plane + 3 nodes, no Docker needed
  kstack cluster up --control-plane     start only a local control plane (etcd, API server, controller-manager, scheduler)
  kstack cluster status                 show what runs and whether it is healthy
  kstack cluster stop                   stop the local cluster, keeping its data (up resumes it)
  kstack cluster down                   stop the local cluster and remove its files
  kstack cluster node restart NODE      restart a node's containerd and node agents (kubelet, kube-proxy, policy engines)
  kstack images build [NAME…] | list    build the local cluster's images from Debian packages

Common flags:
  --name NAME        cluster name (default: ${DEFAULT_CLUSTER})
  -h, --help         help for a command
`;

const CLUSTER_UP_HELP = `kstack cluster up [--nodes N] [--db-taint key=value:Effect|none] [--name NAME] [--api-port PORT] [--kubeconfig PATH]
kstack cluster up --control-plane [--name NAME] [--api-port PORT] [--kubeconfig PATH]

Starts a local Kubernetes cluster without Docker: etcd, kube-apiserver, kube-controller-manager and
kube-scheduler as local processes on 127.0.0.1, and N nodes, each a network namespace with its own
containerd, kubelet, kube-proxy, kube-router (NetworkPolicy) and multinet-policy (MultiNetworkPolicy on
secondary networks), plus CoreDNS, a default local-path StorageClass, the NetworkAttachmentDefinition
CRD for secondary networks, and a local S3 server for backups. It reports Ready only after a canary
policy is seen enforced on every node. Everything is built from source or Debian packages on first
use. Running it again on a healthy cluster changes nothing; on a partly stopped cluster it starts what
is missing.

  --nodes N          number of nodes (default 3: web-1, db-1, db-2; 1 gives one untainted node)
  --db-taint T       taint on db nodes (default dedicated=db:NoSchedule; 'none' for no taint)
  --control-plane    only the control plane (no nodes)
  --name NAME        cluster name (default: ${DEFAULT_CLUSTER})
  --api-port PORT    API server port (default: a free port)
  --kubeconfig PATH  also write the admin kubeconfig to PATH (removed by 'down')
`;

async function clusterCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const progress = createProgress();
  switch (sub) {
    case 'up': {
      const { values } = parseFlags('cluster up', rest, {
        'control-plane': { type: 'boolean' }, name: { type: 'string' }, 'api-port': { type: 'string' },
        kubeconfig: { type: 'string' }, nodes: { type: 'string' }, 'db-taint': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      });
      if (values.help) { process.stdout.write(CLUSTER_UP_HELP); return 0; }
      if (values['control-plane'] && (values.nodes !== undefined || values['db-taint'] !== undefined)) {
        throw new UserError('--control-plane starts no nodes, so --nodes and --db-taint do not apply; drop one or the other');
      }
      const nodes = values['control-plane'] ? undefined : nodeSettingsFromFlags(values.nodes, values['db-taint']);
      await ensureNeeds('cluster up', progress);
      const result = await controlPlaneUp({
        progress,
        ...(nodes ? { nodes } : {}),
        ...(values.name !== undefined ? { name: values.name } : {}),
        ...(values['api-port'] !== undefined ? { apiPort: portFlag('api-port', values['api-port']) } : {}),
        ...(values.kubeconfig !== undefined ? { kubeconfigPath: resolve(values.kubeconfig) } : {}),
      });
      const verb = result.alreadyRunning ? 'was already up' : `is up in ${formatDuration(result.timings.allHealthyMs)}`;
      const what = result.state.nodeSettings ? `Cluster '${result.layout.name}' (${result.state.nodeSettings.count} nodes)` : `Control plane '${result.layout.name}'`;
      process.stdout.write(`${what} ${verb}: ${result.server}\n`);
      process.stdout.write(`  export KUBECONFIG=${result.state.userKubeconfig ?? result.kubeconfig}\n`);
      return 0;
    }
    case 'down': {
      const { values } = parseFlags('cluster down', rest, { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
      if (values.help) { process.stdout.write('kstack cluster down [--name NAME]\n\nStops every process of the cluster and removes its files.\n'); return 0; }
      await ensureNeeds('cluster down', progress);
      const { existed } = await controlPlaneDown({ progress, ...(values.name !== undefined ? { name: values.name } : {}) });
      process.stdout.write(existed ? `Cluster '${values.name ?? DEFAULT_CLUSTER}' removed.\n` : `No cluster '${values.name ?? DEFAULT_CLUSTER}' here; nothing to do.\n`);
      return 0;
    }
    case 'stop': {
      const { values } = parseFlags('cluster stop', rest, { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
      if (values.help) { process.stdout.write('kstack cluster stop [--name NAME]\n\nStops every process of the cluster and keeps its data; \'kstack cluster up\' resumes it.\n'); return 0; }
      await ensureNeeds('cluster stop', progress);
      const { existed } = await controlPlaneStop({ progress, ...(values.name !== undefined ? { name: values.name } : {}) });
      process.stdout.write(existed ? `Cluster '${values.name ?? DEFAULT_CLUSTER}' stopped; its data is kept. Resume with 'kstack cluster up --control-plane'.\n` : `No cluster '${values.name ?? DEFAULT_CLUSTER}' here; nothing to do.\n`);
      return 0;
    }
    case 'status': {
      const { values } = parseFlags('cluster status', rest, { name: { type: 'string' }, output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } });
      if (values.help) { process.stdout.write('kstack cluster status [--name NAME] [-o json]\n'); return 0; }
      if (values.output !== undefined && values.output !== 'json' && values.output !== 'text') {
        throw new UserError(`--output '${values.output}' is not supported: use 'text' or 'json'`);
      }
      await ensureNeeds('cluster status', progress);
      const status = await controlPlaneStatus(values.name !== undefined ? { name: values.name } : {});
      process.stdout.write(values.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      return status.exists && status.components.every((c) => c.healthy) ? 0 : 3;
    }
    case 'node': {
      const [action, nodeName, ...more] = rest;
      const { values } = parseFlags('cluster node', more, { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
      if (values.help || action !== 'restart' || !nodeName) {
        if (values.help) { process.stdout.write('kstack cluster node restart NODE [--name NAME]\n\nRestarts the node\'s containerd and node agents (kubelet, kube-proxy, kube-router, multinet-policy); its containers keep running.\n'); return 0; }
        throw new UserError(`kstack cluster node: use 'kstack cluster node restart NODE'`);
      }
      await ensureNeeds('cluster node restart', progress);
      const result = await restartNode({ progress, node: nodeName, ...(values.name !== undefined ? { name: values.name } : {}) });
      process.stdout.write(`Node ${nodeName} of cluster '${result.layout.name}' restarted.\n`);
      return 0;
    }
    default:
      throw new UserError(`kstack cluster: unknown subcommand '${sub ?? ''}'; use up, stop, down, status or node`);
  }
}

const UP_HELP = `kstack up [--context NAME] [--namespace NS] [--release NAME] [-f values.yaml]… [--timeout 10m] [--no-watch]

The main job. Without --context: brings up the local cluster (or reuses the running one), builds and
imports the stack's images, installs the webstack chart with its local values, waits for every
workload, then prints the page URL and the podwatch view URL (port-forwards kept by kstack on
127.0.0.1) and streams pod events until Ctrl-C. With --context: deploys to that existing cluster
with the chart's public images instead.
`;

function timeoutFlag(value: string | undefined): number {
  if (value === undefined) return 10 * 60_000;
  const m = /^(\d+)(s|m)$/.exec(value);
  if (!m) throw new UserError(`--timeout '${value}' is not a duration: use e.g. 90s or 10m`);
  return Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000);
}

async function upCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('up', args, {
    context: { type: 'string' }, namespace: { type: 'string', short: 'n' }, release: { type: 'string' },
    values: { type: 'string', short: 'f', multiple: true }, timeout: { type: 'string' }, 'no-watch': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { process.stdout.write(UP_HELP); return 0; }
  const progress = createProgress();
  await ensureNeeds('up', progress);
  const result = await stackUp({
    namespace: values.namespace ?? 'webstack', release: values.release ?? 'web',
    valuesFiles: (values.values ?? []).map((f) => resolve(f)), timeoutMs: timeoutFlag(values.timeout), progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
  });
  process.stdout.write(`\nThe stack is up (${result.workloads.map((w) => `${w.component} ${w.ready}/${w.desired}`).join(', ')}).\n`);
  process.stdout.write(`  page:     ${result.page.url}\n`);
  if (result.podwatch) process.stdout.write(`  podwatch: ${result.podwatch.url}\n`);
  if (result.kubeconfig) process.stdout.write(`  export KUBECONFIG=${result.kubeconfig}\n`);
  const controller = new AbortController();
  const stop = (): void => { controller.abort(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (values['no-watch']) return 0;
    process.stdout.write(`\nPod events in namespace ${result.namespace} (Ctrl-C to stop; the stack keeps running):\n`);
    const config = parsePodwatchConfig({
      namespace: [result.namespace], output: 'terminal', 'emit-initial': true,
      ...(result.kubeconfig ? { kubeconfig: result.kubeconfig } : {}),
    }, process.env, undefined);
    await runPodwatch(config, { signal: controller.signal });
    return 0;
  } finally {
    result.page.stop();
    result.podwatch?.stop();
  }
}

const PROVE_HELP = `kstack prove [--context NAME | --name CLUSTER] [-n NS] [--release NAME] [--only R1,R5] [--allow-skip R6] [--report DIR]

Checks each requirement on the installed release, against the real cluster, and shows for each row
what was checked, how, the evidence, and pass / fail / skipped-with-reason. The release's values say
what it asks for (replicas, components, placement, backup objectives); a row skips only for a
component the values turn off (e.g. backup.enabled=false), and a skip is never a pass: the run is
INCOMPLETE unless you accept that row's skip with --allow-skip. What the cluster lacks (no enforcing
policy engine, no Multus) fails its row. R2, R3, R6 and R9 change the release while they run (a db pod
deleted, a config rolled out under load, a backup restored into a throw-away namespace, web scaled)
and restore it. Every row waits (at most 5 min) for the release to settle first.

Exit status: 0 every row passed (or skipped where allowed), 1 a row failed, 2 a row skipped unasked.

Rows: ${REQUIREMENTS.map((r) => `${r.id} ${r.title}`).join('; ')}.

  --context NAME   kubeconfig context of the cluster (default: the local cluster started by 'kstack up')
  --name CLUSTER   the local cluster's name (default: ${DEFAULT_CLUSTER})
  -n, --namespace  namespace of the release (default: webstack)
  --release NAME   Helm release (default: web)
  --only IDS       only these rows, comma-separated (e.g. R5,R6)
  --allow-skip IDS accept these rows' skips (comma-separated); the skip and its reason are still shown
  --report DIR     where report.md, report.json and screenshot.png go (default: out/prove-<UTC time>/)
`;

async function proveCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('prove', args, {
    context: { type: 'string' }, name: { type: 'string' }, namespace: { type: 'string', short: 'n' }, release: { type: 'string' },
    only: { type: 'string' }, 'allow-skip': { type: 'string' }, report: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { process.stdout.write(PROVE_HELP); return 0; }
  const allowSkip = values['allow-skip'] === undefined ? [] : selectRows(REQUIREMENTS, values['allow-skip'], '--allow-skip').map((r) => r.id);
  if (values.context !== undefined && values.name !== undefined) throw new UserError('--name picks a local cluster and --context another cluster; give one of them');
  const rows = selectRows(REQUIREMENTS, values.only);
  const namespace = values.namespace ?? 'webstack';
  const release = values.release ?? 'web';
  const progress = createProgress();
  await ensureNeeds('prove', progress);
  const reportDir = prepareReportDir(values.report !== undefined ? resolve(values.report) : defaultReportDir(process.cwd(), new Date()));
  const target = await resolveTarget({
    namespace, progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
    ...(values.name !== undefined ? { clusterName: values.name } : {}),
  });
  const report = await runProve({ rows, kube: target.kube, namespace, release, cluster: target.cluster, reportDir, progress, allowSkip });
  const files = writeReport(reportDir, report);
  const color = process.stdout.isTTY && !process.env.NO_COLOR;
  process.stdout.write(`\n${renderTable(report, { color, ...(process.stdout.columns ? { columns: process.stdout.columns } : {}) })}`);
  process.stdout.write(`Report: ${files.markdown}\n        ${files.json}\n`);
  return exitStatusOf(report.verdict);
}

const DR_TARGET_FLAGS = `  --context NAME   kubeconfig context of the cluster (default: the local cluster started by 'kstack up')
  --name CLUSTER   the local cluster's name (default: ${DEFAULT_CLUSTER})
  -n, --namespace  namespace of the release (default: webstack)
  --release NAME   Helm release (default: web)
`;

const BACKUP_HELP = `kstack backup now | list | verify [--context NAME | --name CLUSTER] [-n NS] [--release NAME]

Runs a disaster-recovery task of an installed webstack release (backup.enabled=true) in the cluster,
as a Job made from the release's backup CronJob, shows its progress and prints its result:

  now      a backup now: dump of a Synced member, compressed, encrypted, uploaded with its manifest
  list     the backups in the storage (id, size, GTID position, verification)
  verify   restore the newest backup into a throw-away MariaDB and compare it with its manifest

${DR_TARGET_FLAGS}`;

const RESTORE_HELP = `kstack restore [--to-time T | --to-gtid G] [--backup ID] [--into-namespace NS [--lean]]
               [--context NAME | --name CLUSTER] [-n NS] [--release NAME]

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
${DR_TARGET_FLAGS}`;

async function drKube(values: { context?: string; name?: string; namespace?: string }, progress: ReturnType<typeof createProgress>): Promise<Awaited<ReturnType<typeof resolveTarget>>['kube']> {
  if (values.context !== undefined && values.name !== undefined) throw new UserError('--name picks a local cluster and --context another cluster; give one of them');
  const target = await resolveTarget({
    namespace: values.namespace ?? 'webstack', progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
    ...(values.name !== undefined ? { clusterName: values.name } : {}),
  });
  return target.kube;
}

const DR_FLAGS = { context: { type: 'string' }, name: { type: 'string' }, namespace: { type: 'string', short: 'n' }, release: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

async function backupCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') { process.stdout.write(BACKUP_HELP); return sub === undefined ? 2 : 0; }
  const tasks: Record<string, DrTask> = { now: 'backup', list: 'list', verify: 'verify' };
  const task = tasks[sub];
  if (!task) throw new UserError(`kstack backup: unknown subcommand '${sub}'; use now, list or verify`);
  const { values } = parseFlags(`backup ${sub}`, rest, DR_FLAGS);
  if (values.help) { process.stdout.write(BACKUP_HELP); return 0; }
  const progress = createProgress();
  await ensureNeeds('backup', progress);
  const kube = await drKube(values, progress);
  const res = await runDrTask(kube, values.release ?? 'web', task, progress);
  process.stdout.write(`${JSON.stringify(res.result ?? null, null, 2)}\n`);
  return 0;
}

async function restoreCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('restore', args, {
    ...DR_FLAGS, 'to-time': { type: 'string' }, 'to-gtid': { type: 'string' }, backup: { type: 'string' }, 'into-namespace': { type: 'string' }, lean: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(RESTORE_HELP); return 0; }
  const req = checkRestoreRequest({
    ...(values['to-time'] !== undefined ? { toTime: values['to-time'] } : {}),
    ...(values['to-gtid'] !== undefined ? { toGtid: values['to-gtid'] } : {}),
    ...(values.backup !== undefined ? { backupId: values.backup } : {}),
    ...(values['into-namespace'] !== undefined ? { intoNamespace: values['into-namespace'] } : {}),
    ...(values.lean === true ? { lean: true } : {}),
  });
  const progress = createProgress();
  await ensureNeeds('restore', progress);
  const kube = await drKube(values, progress);
  const res = await runRestoreJob(kube, values.release ?? 'web', req, progress);
  process.stdout.write(`Restored into namespace ${res.namespace} (Job ${res.job}): ${JSON.stringify(res.result ?? null)}\n`);
  return 0;
}

async function downCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('down', args, {
    context: { type: 'string' }, namespace: { type: 'string', short: 'n' }, release: { type: 'string' }, all: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { process.stdout.write('kstack down [--context NAME] [--namespace NS] [--release NAME] [--all]\n\nRemoves the release; --all also removes the local cluster.\n'); return 0; }
  if (values.all && values.context !== undefined) throw new UserError('--all removes the local cluster; it does not apply with --context');
  const progress = createProgress();
  await ensureNeeds('down', progress);
  await stackDown({
    namespace: values.namespace ?? 'webstack', release: values.release ?? 'web', all: values.all ?? false, progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
  });
  process.stdout.write(values.all ? 'Release and local cluster removed.\n' : 'Release removed.\n');
  return 0;
}

/** `kstack watch [podwatch flags]`: podwatch in the foreground (see `kstack watch --help`). */
async function watchCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('watch', args, PODWATCH_FLAGS);
  if (values.help) { process.stdout.write(PODWATCH_HELP); return 0; }
  const configPath = typeof values.config === 'string' ? values.config : undefined;
  let yamlText: string | undefined;
  if (configPath) {
    try { yamlText = readFileSync(configPath, 'utf8'); } catch (err) { throw new UserError(`--config ${configPath}: cannot read it (${messageOf(err)})`); }
  }
  const config = parsePodwatchConfig(values, process.env, yamlText);
  await ensureNeeds('watch', createProgress());
  const controller = new AbortController();
  process.once('SIGINT', () => { controller.abort(); });
  process.once('SIGTERM', () => { controller.abort(); });
  await runPodwatch(config, { signal: controller.signal });
  return 0;
}

async function imagesCommand(args: string[]): Promise<number> {
  const [sub, ...names] = args;
  const all = Object.keys(imageRecipes) as ImageName[];
  if (sub === 'list') {
    for (const name of all) process.stdout.write(`${imageRecipes[name].ref}\t${imageRecipes[name].debianPackages.join(' ') || '(single binary)'}\n`);
    return 0;
  }
  if (sub !== 'build') throw new UserError(`kstack images: unknown subcommand '${sub ?? ''}'; use build [NAME…] or list`);
  const unknown = names.filter((n) => !all.includes(n as ImageName));
  if (unknown.length) throw new UserError(`unknown image ${unknown.join(', ')}: the images are ${all.join(', ')}`);
  const progress = createProgress();
  await ensureNeeds('images build', progress);
  for (const name of (names.length ? names : all) as ImageName[]) {
    const built = await buildImage(name, progress);
    process.stdout.write(`${built.ref}\t${built.dir}\n`);
  }
  return 0;
}

const SETUP_HELP = `kstack setup [--for COMMAND]

Installs and builds what kstack, its tests and its benchmarks use: Debian packages, kubectl and helm,
the Node.js runtime for images, and the Go components. Idempotent; with warm caches it only checks.
Every command installs its own needs before it starts, so this is only needed ahead of time.

  --for COMMAND   only what COMMAND needs (src/setup/needs.ts), e.g. 'cluster up' or bench:dr
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    case 'setup': {
      const { values } = parseFlags('setup', rest, { for: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
      if (values.help) { process.stdout.write(SETUP_HELP); return 0; }
      if (values.for !== undefined) {
        if (!isCommandName(values.for)) throw new UserError(`--for '${values.for}' is not a command kstack declares needs for; use one of: ${commandNames.join(', ')}`);
        await ensureNeeds(values.for, createProgress(), { buildGo: true });
        process.stdout.write(`Ready for '${values.for}'.\n`);
        return 0;
      }
      const tools = await ensureAllTools(createProgress());
      process.stdout.write(`Ready: kubectl ${tools.kubectl}\n       helm ${tools.helm}\n${Object.entries(tools.go).map(([n, p]) => `       ${n} ${p}`).join('\n')}\n`);
      return 0;
    }
    case 'cluster':
      return clusterCommand(rest);
    case 'images':
      return imagesCommand(rest);
    case 'up':
      return upCommand(rest);
    case 'down':
      return downCommand(rest);
    case 'prove':
      return proveCommand(rest);
    case 'watch':
      return watchCommand(rest);
    case 'backup':
      return backupCommand(rest);
    case 'restore':
      return restoreCommand(rest);
    default:
      throw new UserError(`unknown command '${command}'; run 'kstack help' to see the commands`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof UserError) process.stderr.write(`kstack: ${err.message}\n`);
    else process.stderr.write(`kstack: unexpected error: ${err instanceof Error ? err.stack ?? err.message : messageOf(err)}\n`);
    process.exitCode = 1;
  },
);
