/**
 * Progress for long work: each step prints when it starts and how long it took, and may report a detail
 * (e.g. "412/1300 packages"). On a terminal the detail redraws one line; in logs (CI) it is printed at
 * most every few seconds so the output stays readable.
 */
export interface Step {
  detail(text: string): void;
  /**
   * The work finished but did not succeed (a proof row that failed or was skipped): the closing line says
   * so instead of ✓. Without it, a step that returns is a success.
   */
  outcome?(result: StepOutcome): void;
}

export type StepOutcome = 'failed' | 'skipped';

export interface Progress {
  step<T>(title: string, work: (step: Step) => Promise<T>): Promise<T>;
  info(text: string): void;
}

export interface ProgressOptions {
  out?: NodeJS.WriteStream | NodeJS.WritableStream;
  isTTY?: boolean;
  now?: () => number;
  /** Minimum interval between detail lines when not on a terminal. */
  logEveryMs?: number;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const min = Math.floor(ms / 60_000);
  const sec = Math.round((ms % 60_000) / 1000);
  return `${min}m${String(sec).padStart(2, '0')}s`;
}

export function createProgress(opts: ProgressOptions = {}): Progress {
  const out = opts.out ?? process.stderr;
  const isTTY = opts.isTTY ?? ('isTTY' in out && out.isTTY);
  const now = opts.now ?? (() => performance.now());
  const logEveryMs = opts.logEveryMs ?? 5000;
  const write = (s: string): void => {
    out.write(s);
  };

  return {
    info(text) {
      write(`  ${text}\n`);
    },
    async step(title, work) {
      const started = now();
      let lastLogged = -Infinity;
      if (!isTTY) write(`▸ ${title}\n`);
      else write(`▸ ${title}…`);
      let outcome: StepOutcome | undefined;
      const step: Step = {
        outcome(result) {
          outcome = result;
        },
        detail(text) {
          if (isTTY) {
            write(`\r\x1b[2K▸ ${title}… ${text}`);
          } else if (now() - lastLogged >= logEveryMs) {
            lastLogged = now();
            write(`  ${title}: ${text}\n`);
          }
        },
      };
      try {
        const result = await work(step);
        const took = formatDuration(now() - started);
        const closing =
          outcome === 'failed'
            ? `✗ ${title} — FAILED (${took})`
            : outcome === 'skipped'
              ? `⊘ ${title} — SKIPPED (${took})`
              : `✓ ${title} (${took})`;
        write(isTTY ? `\r\x1b[2K${closing}\n` : `${closing}\n`);
        return result;
      } catch (err) {
        write(isTTY ? `\r\x1b[2K✗ ${title}\n` : `✗ ${title}\n`);
        throw err;
      }
    },
  };
}

/** A progress sink that prints nothing (for library callers and tests that only want the result). */
export const silentProgress: Progress = {
  info() {
    /* silent */
  },
  step(_title, work) {
    return work({
      detail() {
        /* silent */
      },
    });
  },
};
