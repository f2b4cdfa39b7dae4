// Entry point of the db member's agent: node dist/src/galera/main.js run --config <file.json>
// (in a pod: the StatefulSet's container command; in tests: one process per loopback member).
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../util/errors.js';
import { Agent, jsonLog, type Log } from './agent.js';
import { parseAgentConfig } from './config.js';

const USAGE = 'usage: main.js run --config <agent.json>';

/**
 * Logs to stdout (kubectl logs) and appends the same lines to the run dir's agent.log, which outlives a
 * container restart (it is a pod-level emptyDir): `kubectl exec <pod> -c mariadb -- cat /run/mysqld/agent.log`
 * shows every decision of the pod's life even when the node's log files are gone.
 */
function teeLog(file: string): Log {
  let fileOk = true;
  return (msg, fields = {}) => {
    jsonLog(msg, fields);
    if (!fileOk) return;
    try {
      mkdirSync(join(file, '..'), { recursive: true });
      appendFileSync(file, JSON.stringify({ ts: new Date().toISOString(), msg, ...fields }) + '\n');
    } catch {
      fileOk = false; // stdout still has it
    }
  };
}

async function main(argv: string[]): Promise<number> {
  const [command, flag, file] = argv;
  if (command !== 'run' || flag !== '--config' || file === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let cfg;
  try {
    cfg = parseAgentConfig(JSON.parse(readFileSync(file, 'utf8')), process.env);
  } catch (err) {
    process.stderr.write(`galera agent: ${file}: ${messageOf(err)}\n`);
    return 2;
  }
  const log = teeLog(join(cfg.runDir, 'agent.log'));
  let agent = new Agent(cfg, log);
  const state = { stopping: false }; // set by the signal handler
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      log('stopping', { signal: sig });
      state.stopping = true;
      void agent.stop();
    });
  }
  // A join can fail for reasons that are gone a moment later (the donor changed state, a peer restarted).
  // Deciding again in-process takes seconds; exiting would put the container into the kubelet's growing
  // restart back-off (10 s, 20 s, 40 s … 5 min) exactly when the cluster is recovering. After a few quick
  // failures in a row the agent exits after all, so a persistent fault shows as restarts.
  let failures = 0;
  for (;;) {
    const startedAt = performance.now();
    const code = await agent.run();
    if (state.stopping || code === 0) return code;
    failures = performance.now() - startedAt > QUICK_FAILURE_WINDOW_MS ? 1 : failures + 1;
    if (failures > QUICK_RETRIES) return code;
    log('mariadbd failed: deciding again', { exit: code, attempt: failures, of: QUICK_RETRIES });
    await sleep(RETRY_PAUSE_MS);
    // The signal handler may have run during the pause (TypeScript cannot see that).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (state.stopping) return code;
    agent = new Agent(cfg, log);
  }
}

const QUICK_RETRIES = 5;
const RETRY_PAUSE_MS = 2000;
/** A server that ran this long before failing starts a new count. */
const QUICK_FAILURE_WINDOW_MS = 120_000;

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    jsonLog('agent failed', { error: messageOf(err) });
    process.exit(1);
  },
);
