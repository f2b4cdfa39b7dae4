// Lanes: independent work run side by side under one progress step, e.g. compiling Go (CPU bound)
// while Debian root filesystems are built (network and disk bound). Each lane runs its tasks in order
// and reports through an ordinary Progress, so the code inside a lane does not know it shares the screen.
import { messageOf } from '../util/errors.js';
import { formatDuration, type Progress } from '../util/progress.js';

export type LaneTask = (progress: Progress) => Promise<unknown>;

export interface Lane {
  /** Short, shown before the lane's current step ("Go", "images"). */
  name: string;
  tasks: readonly LaneTask[];
}

/** One step a lane went through, in the order the steps started. */
export interface LaneLogEntry {
  title: string;
  depth: number;
  outcome?: { ok: boolean; ms: number };
}

export interface LaneState {
  name: string;
  status: 'running' | 'done' | 'failed' | 'stopped';
  /** Why the lane failed (its first line), shown while the other lanes finish their current step. */
  error?: string;
  /** Steps in progress, outermost first. */
  active: { title: string; detail: string }[];
  log: LaneLogEntry[];
}

const shorten = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;

/** One line saying what every lane is doing now, each lane's part cut to an equal share of `width`. */
export function describeLanes(lanes: readonly LaneState[], width: number): string {
  const separator = ' │ ';
  const share = Math.max(16, Math.floor((width - separator.length * (lanes.length - 1)) / Math.max(1, lanes.length)));
  return lanes
    .map((lane) => {
      const current = lane.active.at(-1);
      let text: string;
      if (lane.status === 'failed') text = `failed: ${lane.error ?? ''} (the others stop after their current step)`;
      else if (lane.status !== 'running') text = lane.status;
      else if (!current) text = lane.log.length ? `✓ ${lane.log.at(-1)?.title ?? ''}` : 'starting';
      // The detail (how far along) matters more than the rest of a long title.
      else
        text = current.detail
          ? shorten(current.title, Math.max(12, share - lane.name.length - current.detail.length - 4)) +
            `: ${current.detail}`
          : current.title;
      return shorten(`${lane.name}: ${text}`, share);
    })
    .join(separator);
}

/** What each lane did, for printing once the lanes are done: finished steps with their time, nested by depth. */
export function laneSummary(lanes: readonly LaneState[]): string[] {
  return lanes.flatMap((lane) => {
    if (lane.log.length === 0) return [`${lane.name}: nothing to do`];
    return [
      `${lane.name}:`,
      ...lane.log.map((e) => {
        const mark = e.outcome === undefined ? '·' : e.outcome.ok ? '✓' : '✗';
        const took = e.outcome?.ok ? ` (${formatDuration(e.outcome.ms)})` : '';
        return `${'  '.repeat(e.depth + 1)}${mark} ${e.title}${took}`;
      }),
    ];
  });
}

/** A Progress that records a lane's steps in its state instead of printing them. */
function laneProgress(lane: LaneState, changed: () => void, now: () => number): Progress {
  return {
    info(text) {
      lane.log.push({ title: text, depth: lane.active.length, outcome: { ok: true, ms: 0 } });
    },
    async step(title, work) {
      const entry: LaneLogEntry = { title, depth: lane.active.length };
      const active = { title, detail: '' };
      lane.log.push(entry);
      lane.active.push(active);
      changed();
      const started = now();
      try {
        const result = await work({
          detail(text) {
            active.detail = text;
            changed();
          },
        });
        entry.outcome = { ok: true, ms: now() - started };
        return result;
      } catch (err) {
        entry.outcome = { ok: false, ms: now() - started };
        throw err;
      } finally {
        lane.active.splice(lane.active.indexOf(active), 1);
        changed();
      }
    },
  };
}

export interface RunLanesOptions {
  /** Characters the lanes' status line may use (the terminal's width on a terminal). */
  width?: number;
  now?: () => number;
}

/**
 * Runs the lanes concurrently under one step of `progress` whose detail shows every lane, then prints
 * what each lane did. When a task fails, the other lanes stop before their next task; the first failure
 * is thrown once every lane has settled, so no build keeps running behind the error message.
 */
export async function runLanes(
  title: string,
  lanes: readonly Lane[],
  progress: Progress,
  opts: RunLanesOptions = {},
): Promise<void> {
  const now = opts.now ?? (() => performance.now());
  const width = opts.width ?? (process.stderr.isTTY ? process.stderr.columns - title.length - 4 : 160);
  const runs = lanes.map((lane): { lane: Lane; state: LaneState } => ({
    lane,
    state: { name: lane.name, status: 'running', active: [], log: [] },
  }));
  const states = runs.map((r) => r.state);
  let failure: { error: unknown } | undefined;
  try {
    await progress.step(title, async (step) => {
      const changed = (): void => {
        step.detail(describeLanes(states, width));
      };
      await Promise.all(
        runs.map(async ({ lane, state }) => {
          const p = laneProgress(state, changed, now);
          for (const task of lane.tasks) {
            if (failure) {
              state.status = 'stopped';
              changed();
              return;
            }
            try {
              await task(p);
            } catch (error) {
              failure ??= { error };
              state.status = 'failed';
              state.error = messageOf(error).split('\n')[0];
              changed();
              return;
            }
          }
          state.status = 'done';
          changed();
        }),
      );
      if (failure) throw failure.error;
    });
  } finally {
    for (const line of laneSummary(states)) progress.info(line);
  }
}
