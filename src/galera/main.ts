// Entry point of the db member's agent: node dist/src/galera/main.js run --config <file.json>
// (in a pod: the StatefulSet's container command; in tests: one process per loopback member).
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const agent = new Agent(cfg, log);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      log('stopping', { signal: sig });
      void agent.stop();
    });
  }
  return agent.run();
}

main(process.argv.slice(2)).then(
  (code) => { process.exit(code); },
  (err: unknown) => {
    jsonLog('agent failed', { error: messageOf(err) });
    process.exit(1);
  },
);
