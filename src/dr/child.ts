// Child processes that stream (mariadb-dump, zstd, mariadb): started by pid, their exit turned into a
// promise that rejects with the tail of their stderr, and stopped only by their own pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { UserError } from '../util/errors.js';

export interface StreamingChild {
  proc: ChildProcess;
  /** Resolves when the program exits with 0; rejects with its stderr otherwise. */
  exited: Promise<void>;
  /** SIGKILL this child if it still runs. */
  kill(): void;
}

export function startChild(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore'; stdout?: 'pipe' | 'ignore'; what?: string } = {}): StreamingChild {
  const proc = spawn(cmd, args, { stdio: [opts.stdin ?? 'pipe', opts.stdout ?? 'pipe', 'pipe'], env: opts.env ?? process.env });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => { stderr = (stderr + c).slice(-4000); });
  const what = opts.what ?? cmd;
  const exited = new Promise<void>((resolve, reject) => {
    proc.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new UserError(`'${cmd}' was not found; install it (the backup image has it) and run again`) : err);
    });
    proc.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} ${signal ? `was stopped by ${signal}` : `exited with code ${code ?? '?'}`}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : ''}`));
    });
  });
  // Nobody may be waiting yet; the rejection is observed by whoever awaits `exited`.
  exited.catch(() => undefined);
  return {
    proc,
    exited,
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        try { proc.kill('SIGKILL'); } catch { /* already gone */ }
      }
    },
  };
}
