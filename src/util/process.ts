import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonSpec {
  /** Absolute path of the program. */
  binary: string;
  args: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts a long-running program in its own session so it outlives the CLI, with stdout and stderr
 * appended to its log file. Returns its pid.
 */
export function startDaemon(spec: DaemonSpec): number {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.binary, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.binary}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * The program path a pid runs (its argv[0]), or undefined when the pid is gone (or a zombie). While a
 * process is in the middle of exec its command line can read empty: that is '' (alive), not gone.
 */
export function executableOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and still runs `binary` (a recycled pid running something else is not ours). */
export function isRunning(pid: number, binary: string): boolean {
  return executableOf(pid) === binary;
}

/**
 * Stops a program we started: SIGTERM, then SIGKILL after `graceMs`. Only signals the pid while it still
 * runs `binary`, so a pid the kernel has reused for another program is never touched.
 */
export async function stopDaemon(pid: number, binary: string, graceMs = 10_000): Promise<void> {
  if (!isRunning(pid, binary)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid, binary)) return;
    await sleep(50);
  }
  if (isRunning(pid, binary)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    while (isRunning(pid, binary)) await sleep(20);
  }
}

/** Pids of processes (other than this one) with an argument that mentions `path`: what a folder's owner started. */
export function processesMentioning(path: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.includes(path))) found.push(pid);
    } catch {
      // gone while we looked
    }
  }
  return found;
}
