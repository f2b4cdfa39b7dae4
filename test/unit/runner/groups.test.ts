import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../src/util/paths.js';
import { E2E_GROUPS, planE2e, type E2eGroup } from '../../runner/groups.js';

describe('e2e groups', () => {
  it('every e2e file is in exactly one group, and every listed file exists', () => {
    const files = readdirSync(join(repoRoot, 'test', 'e2e'))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => f.replace(/\.test\.ts$/, ''))
      .sort();
    assert.deepEqual(E2E_GROUPS.flatMap((g) => g.files).sort(), files);
    assert.doesNotThrow(() => planE2e(files));
  });

  it('refuses a file in no group, naming it and where to list it', () => {
    assert.throws(
      () => planE2e(['new-drill']),
      /e2e file 'new-drill\.test\.ts' is in no group: list it in exactly one group in test\/runner\/groups\.ts/,
    );
  });

  it('keeps the group order for a selection, and leaves out groups with nothing selected', () => {
    const plan = planE2e(['prove', 'stack']);
    assert.deepEqual(
      plan.map((p) => [p.group.name, p.files]),
      [['stack', ['stack', 'prove']]],
    );
  });

  it('gives each group its own cluster name and a budget; the groups fit the e2e budget together', () => {
    const clusters = E2E_GROUPS.flatMap((g) => [g.cluster, ...(g.moreClusters ?? [])]);
    assert.equal(new Set(clusters).size, clusters.length);
    for (const g of E2E_GROUPS) assert.ok(g.budgetMinutes > 0, g.name);
    // Side-by-side groups take as long as the longest of their lanes (a group `after` another runs in its
    // lane); the others follow one by one. 48 min of e2e leaves the whole clean-clone run (setup, unit,
    // integration ≈ 7 min) within 60.
    const side = E2E_GROUPS.filter((g) => g.sideBySide);
    const lane = (g: E2eGroup): number => {
      const before = side.find((o) => o.name === g.after);
      return g.budgetMinutes + (before ? lane(before) : 0);
    };
    const together = Math.max(0, ...side.map(lane));
    const alone = E2E_GROUPS.filter((g) => !g.sideBySide).reduce((sum, g) => sum + g.budgetMinutes, 0);
    assert.ok(together + alone <= 48, `e2e budget ${together} + ${alone} min`);
  });

  it('a group after another names a side-by-side group listed before it; niceness is 1..19', () => {
    E2E_GROUPS.forEach((g, i) => {
      if (g.after !== undefined) {
        assert.ok(g.sideBySide, `${g.name}: after needs sideBySide`);
        const before = E2E_GROUPS.slice(0, i).find((o) => o.name === g.after);
        assert.ok(before?.sideBySide, `${g.name}: after '${g.after}', a side-by-side group listed before it`);
      }
      if (g.nice !== undefined) assert.ok(Number.isInteger(g.nice) && g.nice >= 1 && g.nice <= 19, g.name);
    });
  });
});
