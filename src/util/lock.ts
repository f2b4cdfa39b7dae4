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
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
            try {
              unlinkSync(path);
            } catch {
              /* already gone */
            }
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = holderOf(path);
      if (holder !== undefined && holder !== process.pid && alive(holder)) throw new UserError(busyMessage(holder));
      try {
        unlinkSync(path);
      } catch {
        /* raced with another taker; try again */
      }
    }
  }
  throw new UserError(`could not take the lock ${path}; another kstack command may be starting, try again`);
}

/**
 * Waits (at most `timeoutMs`) for the lock at `path`, taking it over from a holder that died. For work that
 * two kstack processes may start at once and the second should simply wait for (e.g. building an image).
 */
export async function waitForLock(
  path: string,
  what: string,
  timeoutMs = 30 * 60_000,
  onWait?: (holderPid: number) => void,
): Promise<Lock> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      return acquireLock(path, (pid) => `busy: pid ${pid}`);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      const holder = holderOf(path);
      if (Date.now() > deadline)
        throw new UserError(
          `waited ${Math.round(timeoutMs / 60_000)} min for another kstack ` +
            `process${holder ? ` (pid ${holder})` : ''} ${what}; stop it or try again later`,
        );
      if (!told && holder !== undefined) {
        onWait?.(holder);
        told = true;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
