// Helm values handed to helm as a file (`-f FILE`), exactly as users pass them: written to a private
// temporary folder that is removed when the command is done, also when it fails.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `fn` with `['-f', FILE]` holding `values` (with `[]` when there are none), then removes the file. */
export async function withValuesFile<T>(
  values: Record<string, unknown> | undefined,
  fn: (args: string[]) => Promise<T>,
): Promise<T> {
  if (!values) return fn([]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-values-'));
  try {
    const file = join(dir, 'values.yaml');
    // JSON is YAML too, and unambiguous: helm reads YAML 1.1, where a bare yes or on would become a boolean.
    writeFileSync(file, JSON.stringify(values));
    return await fn(['-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
