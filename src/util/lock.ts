import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { UserError } from './errors.js';

export interface Lock {
  release(): void;
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Takes an exclusive lock file holding our pid. A lock whose holder has died is taken over; a live holder
 * is a concurrent command, and `busyMessage` tells the user what to do about it.
 */
export function acquireLock(path: string, busyMessage: (holderPid: number) => string): Lock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release() {
          if (holderOf(path) === process.pid) {
            try { unlinkSync(path); } catch { /* already gone */ }
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = holderOf(path);
      if (holder !== undefined && holder !== process.pid && alive(holder)) throw new UserError(busyMessage(holder));
      try { unlinkSync(path); } catch { /* raced with another taker; try again */ }
    }
  }
  throw new UserError(`could not take the lock ${path}; another kstack command may be starting, try again`);
}
