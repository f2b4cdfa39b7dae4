#!/usr/bin/env node
// The container entrypoint: `node dist/src/podwatch/main.js [flags]`. In a pod it uses the service account
// (--in-cluster, or automatically when KUBERNETES_SERVICE_HOST is set and no kubeconfig is given).
// SIGTERM / SIGINT shut down gracefully: sinks are flushed and the lease is released.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UserError, messageOf } from '../util/errors.js';
import { PODWATCH_FLAGS, PODWATCH_HELP, parsePodwatchConfig, type PodwatchFlags } from './config.js';
import { runPodwatch } from './run.js';

async function main(argv: string[]): Promise<number> {
  let flags: PodwatchFlags;
  try {
    flags = parseArgs({ args: argv, options: PODWATCH_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UserError(`${messageOf(err).replace(/\. To specify a positional argument.*$/s, '')}; see --help`);
  }
  if (flags.help) {
    process.stdout.write(PODWATCH_HELP);
    return 0;
  }
  const configPath = typeof flags.config === 'string' ? flags.config : process.env.PODWATCH_CONFIG;
  let yamlText: string | undefined;
  if (configPath) {
    try {
      yamlText = readFileSync(configPath, 'utf8');
    } catch (err) {
      throw new UserError(`--config ${configPath}: cannot read it (${messageOf(err)})`);
    }
  }
  const env = { ...process.env };
  if (env.KUBERNETES_SERVICE_HOST && !flags.kubeconfig && !env.PODWATCH_KUBECONFIG && flags['in-cluster'] === undefined)
    env.PODWATCH_IN_CLUSTER ??= 'true';
  const config = parsePodwatchConfig(flags, env, yamlText);
  const controller = new AbortController();
  const stop = (sig: string): void => {
    if (controller.signal.aborted) return;
    process.stderr.write(`podwatch: ${sig}: flushing sinks and shutting down\n`);
    controller.abort();
  };
  process.once('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.once('SIGINT', () => {
    stop('SIGINT');
  });
  await runPodwatch(config, { signal: controller.signal });
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UserError) {
    process.stderr.write(`podwatch: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`podwatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
