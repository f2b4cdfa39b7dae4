// Entry point of the db member's agent: node dist/src/galera/main.js run --config <file.json>
// (in a pod: the StatefulSet's container command; in tests: one process per loopback member).
import { readFileSync } from 'node:fs';
import { messageOf } from '../util/errors.js';
import { Agent, jsonLog } from './agent.js';
import { parseAgentConfig } from './config.js';

const USAGE = 'usage: main.js run --config <agent.json>';

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
  const agent = new Agent(cfg, jsonLog);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      jsonLog('stopping', { signal: sig });
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
