// Child processes that stream (mariadb-dump, zstd, mariadb): started by pid, their exit turned into a
// promise that rejects with the tail of their stderr, and stopped only by their own pid.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { UserError } from '../util/errors.js';

export interface StreamingChild {
  proc: ChildProcess;
  /** Resolves when the program exits with 0; rejects with its stderr otherwise. */
  exited: Promise<void>;
  /** SIGKILL this child if it still runs. */
  kill(): void;
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * 'pipe', 'ignore', or another child's stdout: that pipe is handed to this child directly, so the bytes
   * flow from one program to the other without passing through Node (the caller must not read it).
   */
  stdin?: 'pipe' | 'ignore' | Readable;
  stdout?: 'pipe' | 'ignore';
  what?: string;
  /** Sees every complete stderr line (progress and status lines some programs write there). */
  onStderrLine?: (line: string) => void;
  /** stderr lines that are chatter, not errors: left out of the failure message. */
  stderrNoise?: RegExp;
}

export function startChild(cmd: string, args: readonly string[], opts: ChildOptions = {}): StreamingChild {
  const stdin = opts.stdin ?? 'pipe';
  const proc = spawn(cmd, args, { stdio: [stdin, opts.stdout ?? 'pipe', 'pipe'], env: opts.env ?? process.env });
  // The child now holds its own copy of a handed-over pipe. Close ours in this same tick, before the event
  // loop could read a single chunk from it.
  if (typeof stdin !== 'string') stdin.destroy();
  let stderr = '';
  let partial = '';
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
    const lines = (partial + c).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      opts.onStderrLine?.(line);
      if (!opts.stderrNoise?.test(line)) stderr = `${stderr}${line}\n`.slice(-4000);
    }
  });
  const what = opts.what ?? cmd;
  const exited = new Promise<void>((resolve, reject) => {
    proc.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new UserError(`'${cmd}' was not found; install it (the backup image has it) and run again`)
          : err,
      );
    });
    proc.on('close', (code, signal) => {
      if (partial) {
        opts.onStderrLine?.(partial);
        if (!opts.stderrNoise?.test(partial)) stderr += partial;
        partial = '';
      }
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${what} ${signal ? `was stopped by ${signal}` : `exited with code ${code ?? '?'}`}` +
              (stderr.trim() ? `: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : ''),
          ),
        );
    });
  });
  // Nobody may be waiting yet; the rejection is observed by whoever awaits `exited`.
  exited.catch(() => undefined);
  return {
    proc,
    exited,
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        try {
          proc.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    },
  };
}
