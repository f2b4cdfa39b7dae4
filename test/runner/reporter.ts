// A node:test reporter that records every finished test and suite as one JSON line (an Outcome), next
// to the spec reporter the terminal shows. test/run.ts reads these lines to print the per-file table and
// the closing line (summary.ts).
import { relative } from 'node:path';
import type { Outcome } from './summary.js';

interface TestEventData {
  name: string;
  nesting: number;
  file?: string;
  skip?: string | boolean;
  todo?: string | boolean;
  details: { duration_ms?: number; type?: 'suite' | 'test'; error?: unknown };
}

/**
 * The error on one line, long enough to say what happened: an assertion's first line often only names the
 * check ("The input did not match the regular expression …"), and what it got comes on the next lines.
 */
function gist(err: unknown): string | undefined {
  if (err === undefined) return undefined;
  // node:test wraps the thrown error in a TestFailure whose `cause` is the original.
  const cause = (err as { cause?: unknown }).cause ?? err;
  const text = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : JSON.stringify(cause);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 600 ? `${line.slice(0, 599)}…` : line;
}

function outcome(type: 'test:pass' | 'test:fail', data: TestEventData): Outcome {
  const status =
    data.skip !== undefined && data.skip !== false
      ? 'skip'
      : data.todo !== undefined && data.todo !== false
        ? 'todo'
        : type === 'test:pass'
          ? 'pass'
          : 'fail';
  const reason =
    typeof data.skip === 'string' ? data.skip : typeof data.todo === 'string' ? data.todo : gist(data.details.error);
  return {
    file: data.file ? relative(process.cwd(), data.file) : '(unknown file)',
    name: data.name,
    nesting: data.nesting,
    kind: data.details.type === 'suite' ? 'suite' : 'test',
    status,
    durationMs: data.details.duration_ms ?? 0,
    ...(reason !== undefined ? { error: reason } : {}),
  };
}

export default async function* outcomesReporter(
  source: AsyncIterable<{ type: string; data: unknown }>,
): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail')
      yield `${JSON.stringify(outcome(event.type, event.data as TestEventData))}\n`;
  }
}
