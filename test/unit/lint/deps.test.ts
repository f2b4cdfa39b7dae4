// The import rules (.dependency-cruiser.mjs, docs/dependencies.md) run the way `npm run lint:deps` runs
// them: on a fixture with deliberate cycles they must fail and name the files, on src/ they must pass.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../../src/util/paths.js';

interface Run {
  status: number | null;
  output: string;
}

/** dependency-cruiser's command line with the project's config, from `cwd`, over `paths`. */
function depcruise(cwd: string, paths: readonly string[]): Promise<Run> {
  const bin = join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const args = [bin, '--config', join(repoRoot, '.dependency-cruiser.mjs'), ...paths];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      resolvePromise({ status, output });
    });
  });
}

describe('import rules (dependency-cruiser)', { concurrency: true }, () => {
  it('reject the fixture: a file cycle, an upward import and the folder cycle it closes', async () => {
    // From inside the fixture its files read src/util/…, src/cli/…, so the project's layer rules apply.
    const { status, output } = await depcruise(join(repoRoot, 'test', 'fixtures', 'dep-cycle'), ['src']);
    assert.notEqual(status, 0, output);
    assert.match(output, /error no-circular: src\/util\/a\.ts → \s*src\/util\/b\.ts →\s*src\/util\/a\.ts/, output);
    assert.match(output, /error layer-util: src\/util\/reaches-up\.ts → src\/cli\/flag\.ts/, output);
    assert.match(output, /error no-folder-cycle: src\/util → \s*src\/cli →\s*src\/util/, output);
    assert.match(output, /x 4 dependency violations \(4 errors/, output);
  });

  it('pass on src/', async () => {
    const { status, output } = await depcruise(repoRoot, ['src']);
    assert.equal(status, 0, output);
    assert.match(output, /no dependency violations found \((\d+) modules/, output);
    // An import that failed to resolve would hide its edge; the cruise must see the whole tree.
    const modules = Number(/\((\d+) modules/.exec(output)?.[1]);
    assert.ok(modules > 100, output);
  });
});
