// helm-docs, the generator of charts/webstack/README.md: a Go component like the others (built from source
// at the version tools/helm-docs/go.mod pins, cached by ensureGoBinaries, installed by `kstack setup`), and
// the one way kstack runs it. `npm run chart:docs` writes the README; the unit test in test/unit/chart/docs/ (which the
// lint step of scripts/test.sh runs) renders it again and fails when the committed file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../util/exec.js';
import { repoRoot } from '../util/paths.js';
import { createProgress, silentProgress, type Progress } from '../util/progress.js';
import { ensureGoBinaries } from './go-build.js';

export const chartDir: string = join(repoRoot, 'charts', 'webstack');
/** The README's template, next to values.yaml (helm-docs' own convention). */
export const readmeTemplate: string = join(chartDir, 'README.md.gotmpl');
export const readmeFile: string = join(chartDir, 'README.md');
/** What to run when the README is stale. */
export const regenerateCommand = 'npm run chart:docs';

/** The helm-docs binary (built on first use; a cached build needs no Go). */
export async function helmDocsBinary(progress: Progress = silentProgress): Promise<string> {
  return (await ensureGoBinaries(['helm-docs'], progress))['helm-docs'];
}

/** The arguments of one render: `template` for the chart in `dir`, printed instead of written (--dry-run). */
export function helmDocsArgs(dir: string, template: string): string[] {
  return [
    '--chart-search-root',
    dir,
    '--template-files',
    template,
    '--dry-run',
    // The table follows values.yaml, section by section, rather than the alphabet.
    '--sort-values-order',
    'file',
    // Its footer names the helm-docs version, which a build from the module proxy does not stamp.
    '--skip-version-footer',
    '--log-level',
    'warning',
  ];
}

/**
 * Renders `template` for the chart in `dir` and returns the text. helm-docs reports a chart it cannot read
 * (a values.yaml that does not parse, a missing template) as a warning and still exits 0, so any warning
 * is an error here, and so is empty output.
 */
export async function renderWithHelmDocs(
  dir: string,
  template: string,
  progress: Progress = silentProgress,
): Promise<string> {
  const binary = await helmDocsBinary(progress);
  const res = await run(binary, helmDocsArgs(dir, template), { cwd: repoRoot });
  const problems = res.stderr.split('\n').filter((l) => /level=(warning|error|fatal|panic)/.test(l));
  if (problems.length > 0 || res.stdout.trim() === '') {
    throw new Error(
      `helm-docs could not document ${relative(repoRoot, dir) || dir}` +
        `:\n${problems.join('\n') || res.stderr.trim() || '(no output)'}`,
    );
  }
  return res.stdout;
}

/** charts/webstack/README.md as helm-docs writes it from values.yaml, Chart.yaml and README.md.gotmpl. */
export function renderChartReadme(progress: Progress = silentProgress): Promise<string> {
  return renderWithHelmDocs(chartDir, readmeTemplate, progress);
}

/** `npm run chart:docs`: writes the README (only when it changed). */
async function chartDocsMain(): Promise<number> {
  const text = await renderChartReadme(createProgress());
  const name = relative(repoRoot, readmeFile);
  let old = '';
  try {
    old = readFileSync(readmeFile, 'utf8');
  } catch {
    /* first run */
  }
  if (old === text) {
    process.stdout.write(`${name} is up to date.\n`);
  } else {
    writeFileSync(readmeFile, text);
    process.stdout.write(`Wrote ${name}.\n`);
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  chartDocsMain().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`chart:docs: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
