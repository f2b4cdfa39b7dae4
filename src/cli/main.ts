#!/usr/bin/env node
// The kstack command: parses flags (args.ts, as commands.ts declares them), calls the modules that do the
// work, prints their results. Every command parses and checks all its flags before its first I/O
// (ensureNeeds), so a usage error costs nothing. main() is importable: it runs only when this file is the
// program, and returns the exit status.
import { readMonitoringUrls } from '../stack/monitoring.js';
import { receiversFromFlags } from '../monitoring/alertmanager-config.js';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  controlPlaneDown,
  controlPlaneStatus,
  controlPlaneStop,
  controlPlaneUp,
  nodeFaultControl,
  restartNode,
  startNodeOnDemand,
  stopNodeOnDemand,
} from '../cluster/control-plane.js';
import { NODE_FAULT_MODES, type NodeFaultMode } from '../cluster/nodes/node-faults.js';
import { loadRegistryTrust, parseRegistryTrust } from '../cluster/nodes/registry-trust.js';
import { buildImage } from '../images/build.js';
import { pushImages, readCaFile, type RegistryCredentials } from '../images/push.js';
import { checkPullSecretName, pullSecretHint, renderPushValuesFile } from '../images/push-values.js';
import { imageRecipes, type ImageName } from '../images/recipes.js';
import { parseRegistryTarget } from '../images/registry-target.js';
import { parsePodwatchConfig } from '../podwatch/config.js';
import { runPodwatch } from '../podwatch/run.js';
import { renderTable } from '../prove/report.js';
import { proveRegions } from '../prove/regions.js';
import { REQUIREMENTS } from '../prove/requirements/index.js';
import { drainNodeControl } from '../prove/requirements/node-drain.js';
import {
  defaultReportDir,
  exitStatusOf,
  prepareReportDir,
  resolveTarget,
  runProve,
  selectRows,
  writeReport,
} from '../prove/run.js';
import { commandNames, ensureAllTools, ensureNeeds, isCommandName } from '../setup/needs.js';
import { checkRestoreRequest, runDrTask, runRestoreJob, type BackupSource, type DrTask } from '../stack/dr.js';
import { formatStackStatus, stackStatus } from '../stack/status.js';
import { rotateDbCerts } from '../stack/certs.js';
import { STACK_IMAGES, stackDown, stackUp } from '../stack/up.js';
import { monitoringImagesFromValuesFiles } from '../stack/context-monitoring.js';
import { UserError, messageOf } from '../util/errors.js';
import { createProgress, formatDuration, silentProgress, type Progress } from '../util/progress.js';
import {
  checkUpMonitoringFlags,
  durationFlag,
  monitoringFromFlags,
  nodeSettingsFromFlags,
  parseCommand,
  portFlag,
} from './args.js';
import {
  BACKUP,
  DB_ROTATE_CERTS,
  CLUSTER_DOWN,
  CLUSTER_HELP,
  CLUSTER_NODE,
  CLUSTER_STATUS,
  CLUSTER_STOP,
  CLUSTER_UP,
  DOWN,
  IMAGES_BUILD,
  IMAGES_HELP,
  IMAGES_LIST,
  IMAGES_PUSH,
  PROVE,
  REGION_BACKUPS,
  REGION_DOWN,
  REGION_FAILOVER,
  REGION_FAILBACK,
  REGION_STATUS,
  REGION_UP,
  RESTORE,
  SETUP,
  STATUS,
  UP,
  USAGE,
  WATCH,
} from './commands.js';
import { DEFAULT_CLUSTER, DEFAULT_NAMESPACE, DEFAULT_RELEASE, DEFAULT_UP_TIMEOUT } from './defaults.js';
import {
  formatFailback,
  formatFailover,
  formatRegionStatus,
  formatRotation,
  formatStatus,
  formatStopped,
  formatUnplanned,
} from './format.js';
import { failback, plannedFailover, regionStatus, unplannedFailover } from '../region/regions.js';
import { regionUp } from '../region/region-up.js';
import { regionDown } from '../region/region-down.js';
import { checkPair, checkRegionName, pairFile, requirePair } from '../region/pair.js';
import { copyBucketName, copyKeySecretName, formatCopyStatus, nextStatus } from '../region/backup-copy.js';
import { copyPairBackups, readCopyStatus, writeCopyStatus } from '../region/backup-copy-run.js';
import { globalDnsDir } from '../region/global-name.js';

/** Where the command prints: process.stdout / process.stderr, or a test's buffers. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface Io {
  out: Output;
  err: Output;
  /** All of stdin (for --password-stdin); process.stdin when not given. */
  readInput?: () => Promise<string>;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

const isHelp = (arg: string | undefined): boolean => arg === 'help' || arg === '--help' || arg === '-h';

async function clusterCommand(args: readonly string[], out: Output): Promise<number> {
  const [sub, ...rest] = args;
  const progress = createProgress();
  switch (sub) {
    case 'up': {
      const { values } = parseCommand(CLUSTER_UP, rest);
      if (values.help) {
        out.write(CLUSTER_UP.help);
        return 0;
      }
      const nodes = values['control-plane']
        ? undefined
        : nodeSettingsFromFlags(values.nodes, values['db-taint'], values['no-preload'] === true);
      const apiPort = portFlag('api-port', values['api-port']);
      const registryCa =
        values['registry-ca'] !== undefined ? loadRegistryTrust(parseRegistryTrust(values['registry-ca'])) : undefined;
      await ensureNeeds('cluster up', progress);
      const result = await controlPlaneUp({
        progress,
        ...(nodes ? { nodes } : {}),
        ...(values.name !== undefined ? { name: values.name } : {}),
        ...(apiPort !== undefined ? { apiPort } : {}),
        ...(values.kubeconfig !== undefined ? { kubeconfigPath: resolve(values.kubeconfig) } : {}),
      });
      if (registryCa) out.write(`Nodes trust the registry's CA: ${registryCa.write(result.layout)}\n`);
      const verb = result.alreadyRunning ? 'was already up' : `is up in ${formatDuration(result.timings.allHealthyMs)}`;
      const what = result.state.nodeSettings
        ? `Cluster '${result.layout.name}' (${result.state.nodeSettings.count} nodes)`
        : `Control plane '${result.layout.name}'`;
      out.write(`${what} ${verb}: ${result.server}\n`);
      out.write(`  export KUBECONFIG=${result.state.userKubeconfig ?? result.kubeconfig}\n`);
      return 0;
    }
    case 'down': {
      const { values } = parseCommand(CLUSTER_DOWN, rest);
      if (values.help) {
        out.write(CLUSTER_DOWN.help);
        return 0;
      }
      await ensureNeeds('cluster down', progress);
      const { existed } = await controlPlaneDown({
        progress,
        ...(values.name !== undefined ? { name: values.name } : {}),
      });
      const name = values.name ?? DEFAULT_CLUSTER;
      out.write(existed ? `Cluster '${name}' removed.\n` : `No cluster '${name}' here; nothing to do.\n`);
      return 0;
    }
    case 'stop': {
      const { values } = parseCommand(CLUSTER_STOP, rest);
      if (values.help) {
        out.write(CLUSTER_STOP.help);
        return 0;
      }
      await ensureNeeds('cluster stop', progress);
      const result = await controlPlaneStop({ progress, ...(values.name !== undefined ? { name: values.name } : {}) });
      out.write(formatStopped(values.name ?? DEFAULT_CLUSTER, result));
      return 0;
    }
    case 'status': {
      const { values } = parseCommand(CLUSTER_STATUS, rest);
      if (values.help) {
        out.write(CLUSTER_STATUS.help);
        return 0;
      }
      if (values.output !== undefined && values.output !== 'json' && values.output !== 'text') {
        throw new UserError(`--output '${values.output}' is not supported: use 'text' or 'json'`);
      }
      await ensureNeeds('cluster status', progress);
      const status = await controlPlaneStatus(values.name !== undefined ? { name: values.name } : {});
      out.write(values.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      return status.exists && status.components.every((c) => c.healthy) ? 0 : 3;
    }
    case 'node': {
      const { values, positionals } = parseCommand(CLUSTER_NODE, rest);
      if (values.help) {
        out.write(CLUSTER_NODE.help);
        return 0;
      }
      const [action, nodeName, ...extra] = positionals;
      const actions = ['restart', 'stop', 'start'];
      if (!action || !actions.includes(action) || !nodeName || extra.length > 0)
        throw new UserError(`kstack cluster node: use 'kstack cluster node restart|stop|start NODE'`);
      if (values.mode !== undefined && action !== 'stop')
        throw new UserError(`--mode applies to 'kstack cluster node stop' only`);
      const mode = values.mode ?? 'freeze';
      if (!(NODE_FAULT_MODES as readonly string[]).includes(mode))
        throw new UserError(`--mode '${mode}' is not supported: use ${NODE_FAULT_MODES.join(' or ')}`);
      const cluster = values.name !== undefined ? { name: values.name } : {};
      await ensureNeeds('cluster node', progress);
      if (action === 'stop') {
        const result = await stopNodeOnDemand({ progress, node: nodeName, mode: mode as NodeFaultMode, ...cluster });
        out.write(
          `Node ${nodeName} ${mode === 'freeze' ? 'frozen' : 'killed'} (${result.processes} ` +
            `processes); bring it back with 'kstack cluster node start ${nodeName}'.\n`,
        );
      } else if (action === 'start') {
        const result = await startNodeOnDemand({ progress, node: nodeName, ...cluster });
        out.write(`Node ${nodeName} ${result.wasStopped ? 'is back and' : 'was not stopped; it is'} Ready.\n`);
      } else {
        const result = await restartNode({ progress, node: nodeName, ...cluster });
        out.write(`Node ${nodeName} of cluster '${result.layout.name}' restarted.\n`);
      }
      return 0;
    }
    default:
      if (isHelp(sub)) {
        out.write(CLUSTER_HELP);
        return 0;
      }
      throw new UserError(`kstack cluster: unknown subcommand '${sub ?? ''}'; use up, stop, down, status or node`);
  }
}

async function upCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(UP, args);
  if (values.help) {
    out.write(UP.help);
    return 0;
  }
  const timeoutMs = durationFlag('timeout', values.timeout, DEFAULT_UP_TIMEOUT);
  checkUpMonitoringFlags(values);
  const valuesFiles = (values.values ?? []).map((f) => resolve(f));
  const contextMonitoring = values['with-monitoring'] ? monitoringImagesFromValuesFiles(valuesFiles) : undefined;
  // Checked before anything runs: a bad URL must not cost a cluster start.
  const receivers =
    values['alert-webhook'] || values['alert-slack']
      ? receiversFromFlags(values['alert-webhook'] ?? [], values['alert-slack'] ?? [])
      : undefined;
  const progress = createProgress();
  await ensureNeeds('up', progress);
  const result = await stackUp({
    namespace: values.namespace ?? DEFAULT_NAMESPACE,
    release: values.release ?? DEFAULT_RELEASE,
    valuesFiles,
    timeoutMs,
    progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
    ...(receivers ? { receivers } : {}),
    ...(contextMonitoring ? { contextMonitoring } : {}),
  });
  out.write(
    `\nThe stack is up (${result.workloads.map((w) => `${w.component} ${w.ready}/${w.desired}`).join(', ')}).\n`,
  );
  out.write(`  page:     ${result.page.url}\n`);
  if (result.podwatch) out.write(`  podwatch: ${result.podwatch.url}\n`);
  if (result.monitoring?.healthUrl) out.write(`  health:   ${result.monitoring.healthUrl}\n`);
  if (result.monitoring?.prometheusUrl) out.write(`  prometheus:   ${result.monitoring.prometheusUrl}\n`);
  const alertmanager = result.alertmanager;
  if (alertmanager) out.write(`  alertmanager: ${alertmanager.url}\n`);
  if (result.kubeconfig) out.write(`  export KUBECONFIG=${result.kubeconfig}\n`);
  const controller = new AbortController();
  const stop = (): void => {
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (values['no-watch'] || values.detach) return 0;
    out.write(
      `\nPod events in namespace ${result.namespace}${alertmanager ? ' and Alertmanager alerts' : ''} ` +
        `(Ctrl-C to stop; the stack keeps running):\n`,
    );
    const config = parsePodwatchConfig(
      {
        namespace: [result.namespace],
        output: 'terminal',
        'emit-initial': true,
        ...(alertmanager ? { alertmanager: alertmanager.url } : {}),
        ...(result.kubeconfig ? { kubeconfig: result.kubeconfig } : {}),
      },
      process.env,
      undefined,
    );
    await runPodwatch(config, { signal: controller.signal });
    return 0;
  } finally {
    result.page.stop();
    result.podwatch?.stop();
    alertmanager?.stop();
  }
}

async function statusCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(STATUS, args);
  if (values.help) {
    out.write(STATUS.help);
    return 0;
  }
  if (values.output !== undefined && values.output !== 'json' && values.output !== 'text')
    throw new UserError(`--output '${values.output}' is not supported: use 'text' or 'json'`);
  const progress = createProgress();
  await ensureNeeds('status', progress);
  const status = await stackStatus({
    namespace: values.namespace ?? DEFAULT_NAMESPACE,
    release: values.release ?? DEFAULT_RELEASE,
    progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
    ...(values.name !== undefined ? { clusterName: values.name } : {}),
  });
  out.write(values.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStackStatus(status));
  return status.pageUrl && status.workloads.every((w) => w.ready >= w.desired) ? 0 : 3;
}

/** `kstack prove --regions`: the pair's drills as rows; the flags of one release's prove do not apply. */
async function proveRegionsCommand(values: Record<string, unknown>, out: Output): Promise<number> {
  const alien = ['only', 'allow-skip', 'context', 'name', 'prometheus', 'alertmanager', 'namespace', 'release'].filter(
    (f) => values[f] !== undefined,
  );
  if (alien.length)
    throw new UserError(
      `kstack prove --regions: ${alien.map((f) => `--${f}`).join(', ')} ${alien.length > 1 ? 'do' : 'does'} ` +
        'not apply; it runs every region row on the pair ' +
        "that 'kstack region up' made (its regions, namespace and release)",
    );
  const progress = createProgress();
  await ensureNeeds('prove --regions', progress);
  const reportDir = prepareReportDir(
    typeof values.report === 'string' ? resolve(values.report) : defaultReportDir(process.cwd(), new Date()),
  );
  const report = await proveRegions(progress);
  const files = writeReport(reportDir, report);
  const color = out.isTTY === true && !process.env.NO_COLOR;
  out.write(`\n${renderTable(report, { color, ...(out.columns ? { columns: out.columns } : {}) })}`);
  out.write(`Report: ${files.markdown}\n        ${files.json}\n`);
  return exitStatusOf(report.verdict);
}

async function proveCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(PROVE, args);
  if (values.help) {
    out.write(PROVE.help);
    return 0;
  }
  if (values.regions) return proveRegionsCommand(values, out);
  const allowSkip =
    values['allow-skip'] === undefined
      ? []
      : selectRows(REQUIREMENTS, values['allow-skip'], '--allow-skip').map((r) => r.id);
  const rows = selectRows(REQUIREMENTS, values.only);
  const monitoringFlags = monitoringFromFlags(values.prometheus, values.alertmanager);
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  const release = values.release ?? DEFAULT_RELEASE;
  const progress = createProgress();
  await ensureNeeds('prove', progress);
  const reportDir = prepareReportDir(
    values.report !== undefined ? resolve(values.report) : defaultReportDir(process.cwd(), new Date()),
  );
  const target = await resolveTarget({
    namespace,
    progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
    ...(values.name !== undefined ? { clusterName: values.name } : {}),
  });
  // The Prometheus and Alertmanager given, else kstack's monitoring when the cluster runs it (R12).
  const monitoring = monitoringFlags ?? (await readMonitoringUrls(target.kube.opts.kubectl, target.kube.opts.kubeArgs));
  const report = await runProve({
    rows,
    kube: target.kube,
    namespace,
    release,
    cluster: target.cluster,
    reportDir,
    progress,
    allowSkip,
    // On kstack's local cluster R11 freezes nodes; on another cluster it drains them through the API.
    nodes:
      values.context === undefined
        ? nodeFaultControl({ progress: silentProgress, ...(values.name !== undefined ? { name: values.name } : {}) })
        : drainNodeControl(target.kube),
    ...(monitoring.prometheusUrl && monitoring.alertmanagerUrl
      ? { monitoring: { prometheusUrl: monitoring.prometheusUrl, alertmanagerUrl: monitoring.alertmanagerUrl } }
      : {}),
  });
  const files = writeReport(reportDir, report);
  const color = out.isTTY === true && !process.env.NO_COLOR;
  out.write(`\n${renderTable(report, { color, ...(out.columns ? { columns: out.columns } : {}) })}`);
  out.write(`Report: ${files.markdown}\n        ${files.json}\n`);
  return exitStatusOf(report.verdict);
}

/** The cluster a backup or restore runs in (--context or the local cluster --name); conflicts are already refused. */
async function drKube(
  values: { context?: string; name?: string; namespace?: string },
  progress: Progress,
): Promise<Awaited<ReturnType<typeof resolveTarget>>['kube']> {
  const target = await resolveTarget({
    namespace: values.namespace ?? DEFAULT_NAMESPACE,
    progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
    ...(values.name !== undefined ? { clusterName: values.name } : {}),
  });
  return target.kube;
}

/**
 * `--from-region R`: read the copy of region R's backups on this cluster's S3 server (src/region/backup-copy.ts).
 * Refused for a backup (written to one's own bucket) and for the cluster of region R itself.
 */
function fromRegionSource(
  region: string | undefined,
  cluster: string | undefined,
  refusedBy?: string,
): BackupSource | undefined {
  if (region === undefined) return undefined;
  if (refusedBy)
    throw new UserError(
      `--from-region goes with 'backup list', 'backup verify' and 'restore': '${refusedBy}' writes to the ` +
        "release's own bucket; another region's copy is only read",
    );
  const bucket = copyBucketName(region, '--from-region');
  if (cluster === region)
    throw new UserError(
      `--from-region ${region} with --name ${region}: the copy of region ${region}'s backups is on the other ` +
        "region's S3 server; give the other region's cluster with --name",
    );
  return { bucket, keySecret: copyKeySecretName(region) };
}

async function backupCommand(args: readonly string[], out: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || isHelp(sub)) {
    out.write(BACKUP.help);
    return sub === undefined ? 2 : 0;
  }
  const tasks: Record<string, DrTask> = { now: 'backup', list: 'list', verify: 'verify' };
  const task = tasks[sub];
  if (!task) throw new UserError(`kstack backup: unknown subcommand '${sub}'; use now, list or verify`);
  const { values } = parseCommand(BACKUP, rest, `backup ${sub}`);
  if (values.help) {
    out.write(BACKUP.help);
    return 0;
  }
  const source = fromRegionSource(values['from-region'], values.name, sub === 'now' ? 'backup now' : undefined);
  const progress = createProgress();
  await ensureNeeds('backup', progress);
  const kube = await drKube(values, progress);
  const res = await runDrTask(kube, values.release ?? DEFAULT_RELEASE, task, progress, undefined, [], source);
  out.write(`${JSON.stringify(res.result ?? null, null, 2)}\n`);
  return 0;
}

async function restoreCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(RESTORE, args);
  if (values.help) {
    out.write(RESTORE.help);
    return 0;
  }
  const req = checkRestoreRequest({
    ...(values['to-time'] !== undefined ? { toTime: values['to-time'] } : {}),
    ...(values['to-gtid'] !== undefined ? { toGtid: values['to-gtid'] } : {}),
    ...(values.backup !== undefined ? { backupId: values.backup } : {}),
    ...(values['into-namespace'] !== undefined ? { intoNamespace: values['into-namespace'] } : {}),
    ...(values.lean === true ? { lean: true } : {}),
  });
  const source = fromRegionSource(values['from-region'], values.name);
  const progress = createProgress();
  await ensureNeeds('restore', progress);
  const kube = await drKube(values, progress);
  const res = await runRestoreJob(kube, values.release ?? DEFAULT_RELEASE, req, progress, source ? { source } : {});
  out.write(`Restored into namespace ${res.namespace} (Job ${res.job}): ${JSON.stringify(res.result ?? null)}\n`);
  return 0;
}

/** `kstack region backups [--now]`: the daemon's record of the copy across regions, or a round run here. */
async function regionBackupsCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(REGION_BACKUPS, args);
  if (values.help) {
    out.write(REGION_BACKUPS.help);
    return 0;
  }
  if (values.output !== undefined && values.output !== 'json' && values.output !== 'text')
    throw new UserError(`--output '${values.output}' is not supported: use 'text' or 'json'`);
  const pair = requirePair();
  const dir = globalDnsDir(pairFile());
  let status = readCopyStatus(dir);
  if (values.now) {
    const progress = createProgress();
    const round = await progress.step(`copy ${pair.primary}'s backups to ${pair.standby}`, (step) =>
      copyPairBackups(pair, {
        log: (line) => {
          step.detail(line);
        },
      }),
    );
    status = nextStatus(status, round);
    writeCopyStatus(dir, status);
  }
  out.write(values.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatCopyStatus(status, new Date()));
  return status.last?.ok ? 0 : 3;
}

async function dbCommand(args: readonly string[], out: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || isHelp(sub)) {
    out.write(DB_ROTATE_CERTS.help);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'rotate-certs') throw new UserError(`kstack db: unknown subcommand '${sub}'; use rotate-certs`);
  const { values } = parseCommand(DB_ROTATE_CERTS, rest);
  if (values.help) {
    out.write(DB_ROTATE_CERTS.help);
    return 0;
  }
  const progress = createProgress();
  await ensureNeeds('db rotate-certs', progress);
  const kube = await drKube(values, progress);
  const res = await rotateDbCerts(kube, values.release ?? DEFAULT_RELEASE, progress);
  out.write(formatRotation(res));
  return 0;
}

const REGION_HELP = `Usage:
  kstack region up --primary NAME --standby NAME   two local clusters as one pair of regions
  kstack region status [-o json]                    roles, writes, replication and lag of each region
  kstack region failover --planned                   switch the roles over without losing a write
  kstack region failover --unplanned                 the primary is lost: promote the standby, fence the old one
  kstack region failback                             make the fenced old primary the new primary's standby
  kstack region backups [--now]                      the copy of the primary's backups in the standby region
  kstack region down                                 remove both regions' clusters and the global name
'kstack region SUBCOMMAND --help' shows its flags.
`;

async function regionCommand(args: readonly string[], out: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || isHelp(sub)) {
    out.write(REGION_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'up') return regionUpCommand(rest, out);
  if (sub === 'status') return regionStatusCommand(rest, out);
  if (sub === 'failover') return regionFailoverCommand(rest, out);
  if (sub === 'failback') return regionFailbackCommand(rest, out);
  if (sub === 'backups') return regionBackupsCommand(rest, out);
  if (sub === 'down') return regionDownCommand(rest, out);
  throw new UserError(
    `kstack region: unknown subcommand '${sub}'; use up, status, failover, failback, backups or down`,
  );
}

async function regionDownCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(REGION_DOWN, args);
  if (values.help) {
    out.write(REGION_DOWN.help);
    return 0;
  }
  const regions = (values.region ?? []).map((r) => checkRegionName(r, '--region'));
  const progress = createProgress();
  await ensureNeeds('region down', progress);
  const res = await regionDown({ progress, regions });
  out.write(
    res.removed.length === 0 && !res.hadPair
      ? 'No pair of regions here; nothing to remove.\n'
      : `Removed: ${res.removed.length ? res.removed.map((r) => `cluster ${r}`).join(', ') : 'no cluster was left'}` +
          `${res.hadPair ? ", the pair's files and the global name" : ''}.\n`,
  );
  return 0;
}

async function regionUpCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(REGION_UP, args);
  if (values.help) {
    out.write(REGION_UP.help);
    return 0;
  }
  if (!values.primary || !values.standby)
    throw new UserError('kstack region up: give --primary NAME and --standby NAME');
  checkPair(values.primary, values.standby);
  const primaryNodes =
    values['primary-nodes'] === undefined ? undefined : nodeSettingsFromFlags(values['primary-nodes'], undefined).count;
  const standbyNodes =
    values['standby-nodes'] === undefined ? undefined : nodeSettingsFromFlags(values['standby-nodes'], undefined).count;
  const timeoutMs = durationFlag('timeout', values.timeout, DEFAULT_UP_TIMEOUT);
  const progress = createProgress();
  await ensureNeeds('region up', progress);
  const res = await regionUp({
    primary: values.primary,
    standby: values.standby,
    namespace: values.namespace ?? DEFAULT_NAMESPACE,
    release: values.release ?? DEFAULT_RELEASE,
    valuesFiles: (values.values ?? []).map((f) => resolve(f)),
    timeoutMs,
    progress,
    ...(primaryNodes !== undefined ? { primaryNodes } : {}),
    ...(standbyNodes !== undefined ? { standbyNodes } : {}),
  });
  out.write(`\nTwo regions are up: ${res.pair.primary} (primary) and ${res.pair.standby} (standby).\n`);
  out.write(`  ${res.pair.primary}: ${res.primary.page.url}\n  ${res.pair.standby}: ${res.standby.page.url}\n`);
  if (res.pair.dns)
    out.write(
      `  global name: ${res.pair.dns.name}, answered by the DNS server on 127.0.0.1:${res.pair.dns.port} ` +
        "(the primary's page while it answers; 'kstack region status' shows it)\n",
    );
  return 0;
}

async function regionStatusCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(REGION_STATUS, args);
  if (values.help) {
    out.write(REGION_STATUS.help);
    return 0;
  }
  if (values.output !== undefined && values.output !== 'json' && values.output !== 'text')
    throw new UserError(`--output '${values.output}' is not supported: use 'text' or 'json'`);
  const progress = createProgress();
  await ensureNeeds('region status', progress);
  const status = await regionStatus(progress);
  // The copy of the primary's backups, as the pair's daemon last reported it.
  const backups = readCopyStatus(globalDnsDir(pairFile()));
  out.write(
    values.output === 'json'
      ? `${JSON.stringify({ ...status, backups }, null, 2)}\n`
      : formatRegionStatus(status) + formatCopyStatus(backups, new Date()),
  );
  const standby = status.regions.find((r) => r.region === status.pair.standby);
  return standby?.replica?.ioRunning && standby.replica.sqlRunning ? 0 : 3;
}

async function regionFailoverCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(REGION_FAILOVER, args);
  if (values.help) {
    out.write(REGION_FAILOVER.help);
    return 0;
  }
  if (values.planned === values.unplanned)
    throw new UserError(
      'kstack region failover: give --planned (both regions up, no write lost) or --unplanned (the primary is lost)',
    );
  const timeoutMs = durationFlag('timeout', values.timeout, '2m');
  const progress = createProgress();
  await ensureNeeds('region failover', progress);
  out.write(
    values.planned
      ? formatFailover(await plannedFailover(progress, { timeoutMs, force: values.force === true }))
      : formatUnplanned(await unplannedFailover(progress, { timeoutMs, force: values.force === true })),
  );
  return 0;
}

async function regionFailbackCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(REGION_FAILBACK, args);
  if (values.help) {
    out.write(REGION_FAILBACK.help);
    return 0;
  }
  const timeoutMs = durationFlag('timeout', values.timeout, '10m');
  const progress = createProgress();
  await ensureNeeds('region failback', progress);
  out.write(formatFailback(await failback(progress, { timeoutMs })));
  return 0;
}

async function downCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(DOWN, args);
  if (values.help) {
    out.write(DOWN.help);
    return 0;
  }
  const progress = createProgress();
  await ensureNeeds('down', progress);
  await stackDown({
    namespace: values.namespace ?? DEFAULT_NAMESPACE,
    release: values.release ?? DEFAULT_RELEASE,
    all: values.all ?? false,
    progress,
    ...(values.context !== undefined ? { context: values.context } : {}),
  });
  out.write(values.all ? 'Release and local cluster removed.\n' : 'Release removed.\n');
  return 0;
}

/** `kstack watch [podwatch flags]`: podwatch in the foreground (see `kstack watch --help`). */
async function watchCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(WATCH, args);
  if (values.help) {
    out.write(WATCH.help);
    return 0;
  }
  const configPath = typeof values.config === 'string' ? values.config : undefined;
  let yamlText: string | undefined;
  if (configPath) {
    try {
      yamlText = readFileSync(configPath, 'utf8');
    } catch (err) {
      throw new UserError(`--config ${configPath}: cannot read it (${messageOf(err)})`);
    }
  }
  const config = parsePodwatchConfig(values, process.env, yamlText);
  await ensureNeeds('watch', createProgress());
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
  });
  process.once('SIGTERM', () => {
    controller.abort();
  });
  await runPodwatch(config, { signal: controller.signal });
  return 0;
}

/** Image names given as operands, or a UserError listing the images there are. */
function imageNames(names: readonly string[]): ImageName[] {
  const all = Object.keys(imageRecipes) as ImageName[];
  const unknown = names.filter((n) => !all.includes(n as ImageName));
  if (unknown.length) throw new UserError(`unknown image ${unknown.join(', ')}: the images are ${all.join(', ')}`);
  return names as ImageName[];
}

/** --username and --password-stdin go together; the password is read from stdin, never from the command line. */
async function registryCredentials(
  values: { username?: string; 'password-stdin'?: boolean },
  io: Io,
): Promise<RegistryCredentials | undefined> {
  if (values['password-stdin'] && values.username === undefined)
    throw new UserError('--password-stdin needs --username: the password is for that user');
  if (values.username === undefined) return undefined;
  if (!values['password-stdin'])
    throw new UserError(
      '--username needs --password-stdin: the password is read from stdin, never from the command line',
    );
  const password = (await (io.readInput ?? readStdin)()).replace(/\r?\n$/, '');
  if (password === '') throw new UserError('--password-stdin: stdin held no password');
  return { username: values.username, password };
}

/** `kstack images push`: flags checked first, then build and push, then the values file (only if all pushed). */
async function imagesPushCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(IMAGES_PUSH, args);
  if (values.help) {
    io.out.write(IMAGES_PUSH.help);
    return 0;
  }
  if (values.registry === undefined)
    throw new UserError(
      "kstack images push: --registry HOST[:PORT][/PREFIX] is required; see 'kstack images push --help'",
    );
  const target = parseRegistryTarget(values.registry);
  const images = positionals.length ? imageNames(positionals) : [...STACK_IMAGES];
  const pullSecret = values['pull-secret'] === undefined ? undefined : checkPullSecretName(values['pull-secret']);
  const output = values.output === undefined ? undefined : resolve(values.output);
  if (output !== undefined && !existsSync(dirname(output)))
    throw new UserError(`--output ${values.output}: folder ${dirname(output)} does not exist`);
  const caPem = values['ca-file'] === undefined ? undefined : readCaFile(values['ca-file']);
  const credentials = await registryCredentials(values, io);
  const progress = createProgress();
  await ensureNeeds('images push', progress);
  const pushed = await pushImages({
    target,
    images,
    progress,
    ...(credentials ? { credentials } : {}),
    ...(caPem !== undefined ? { caPem } : {}),
  });
  const file = renderPushValuesFile(pushed, { server: target.server, ...(pullSecret ? { pullSecret } : {}) });
  for (const p of pushed) io.err.write(`pushed ${p.repository}:${p.tag}@${p.digest}\n`);
  if (pullSecret)
    io.err.write(
      `Create the pull Secret in the release's namespace (password from the ` +
        `environment):\n  ${pullSecretHint(pullSecret, target.server, credentials?.username)}\n`,
    );
  if (output === undefined) io.out.write(file);
  else {
    writeFileSync(output, file);
    io.err.write(`Values written to ${output}\n`);
  }
  return 0;
}

async function imagesCommand(args: readonly string[], io: Io): Promise<number> {
  const out = io.out;
  const [sub, ...rest] = args;
  const all = Object.keys(imageRecipes) as ImageName[];
  if (sub === 'list') {
    const { values } = parseCommand(IMAGES_LIST, rest);
    if (values.help) {
      out.write(IMAGES_LIST.help);
      return 0;
    }
    for (const name of all)
      out.write(`${imageRecipes[name].ref}\t${imageRecipes[name].debianPackages.join(' ') || '(single binary)'}\n`);
    return 0;
  }
  if (isHelp(sub)) {
    out.write(IMAGES_HELP);
    return 0;
  }
  if (sub === 'push') return imagesPushCommand(rest, io);
  if (sub !== 'build')
    throw new UserError(`kstack images: unknown subcommand '${sub ?? ''}'; use build [NAME…], push or list`);
  const { values, positionals } = parseCommand(IMAGES_BUILD, rest);
  if (values.help) {
    out.write(IMAGES_BUILD.help);
    return 0;
  }
  const names = imageNames(positionals);
  const progress = createProgress();
  await ensureNeeds('images build', progress);
  for (const name of names.length ? names : all) {
    const built = await buildImage(name, progress);
    out.write(`${built.ref}\t${built.dir}\n`);
  }
  return 0;
}

async function setupCommand(args: readonly string[], out: Output): Promise<number> {
  const { values } = parseCommand(SETUP, args);
  if (values.help) {
    out.write(SETUP.help);
    return 0;
  }
  if (values.for !== undefined) {
    if (!isCommandName(values.for))
      throw new UserError(
        `--for '${values.for}' is not a command kstack declares needs for; use one of: ${commandNames.join(', ')}`,
      );
    await ensureNeeds(values.for, createProgress(), { buildGo: true });
    out.write(`Ready for '${values.for}'.\n`);
    return 0;
  }
  const tools = await ensureAllTools(createProgress());
  out.write(
    `Ready: kubectl ${tools.kubectl}\n       helm ${tools.helm}\n${Object.entries(tools.go)
      .map(([n, p]) => `       ${n} ${p}`)
      .join('\n')}\n`,
  );
  return 0;
}

function run(argv: readonly string[], io: Io): Promise<number> {
  const out = io.out;
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      out.write(USAGE);
      return Promise.resolve(0);
    case 'setup':
      return setupCommand(rest, out);
    case 'cluster':
      return clusterCommand(rest, out);
    case 'images':
      return imagesCommand(rest, io);
    case 'up':
      return upCommand(rest, out);
    case 'down':
      return downCommand(rest, out);
    case 'prove':
      return proveCommand(rest, out);
    case 'status':
      return statusCommand(rest, out);
    case 'watch':
      return watchCommand(rest, out);
    case 'backup':
      return backupCommand(rest, out);
    case 'restore':
      return restoreCommand(rest, out);
    case 'db':
      return dbCommand(rest, out);
    case 'region':
      return regionCommand(rest, out);
    default:
      return Promise.reject(new UserError(`unknown command '${command}'; run 'kstack help' to see the commands`));
  }
}

/**
 * Runs `kstack ARGV…` and returns its exit status: the command's own (prove: 0/1/2, cluster status: 0/3,
 * `kstack backup` without a task: 2), or 1 after an error, printed on `io.err` (a UserError as its one
 * line, anything else with its stack).
 */
export async function main(
  argv: readonly string[],
  io: Io = { out: process.stdout, err: process.stderr },
): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof UserError) io.err.write(`kstack: ${err.message}\n`);
    else
      io.err.write(`kstack: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : messageOf(err)}\n`);
    return 1;
  }
}

/** True when this file is the program node runs (./kstack), not a module a test imports. */
function isProgram(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isProgram()) process.exitCode = await main(process.argv.slice(2));
