// Galera quorum in the chart (docs/chart.md, "Quorum and disruption budgets"): 2 members cannot lose one and
// keep a majority, so they are refused with the reason, by values.schema.json and, when the schema is
// skipped (--skip-schema-validation), by the db templates themselves; the db PodDisruptionBudget may never
// allow a drain to take the majority. Rendered by the real helm.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { helmLint, tryHelmTemplate } from '../../../../src/chart/helm.js';
import { one, parseManifests } from '../../../../src/chart/manifests.js';

type Values = Record<string, unknown>;
const noSchema = ['--skip-schema-validation'];
const quorumReason =
  /db\.replicaCount: 2 members cannot keep quorum when one is lost \(Galera needs a majority\); use 3 or more/;

async function renderDb(
  db: Values,
  extraArgs: string[] = [],
): Promise<{ sts: k8s.V1StatefulSet; pdbs: k8s.V1PodDisruptionBudget[] }> {
  const res = await tryHelmTemplate({ release: 'ws', namespace: 'shop', values: { db }, extraArgs });
  assert.ok(res.ok, res.stderr);
  const objs = parseManifests(res.stdout);
  return {
    sts: one(objs, 'StatefulSet', 'db'),
    pdbs: objs.filter(
      (o) => o.kind === 'PodDisruptionBudget' && o.metadata.labels?.['app.kubernetes.io/component'] === 'db',
    ),
  };
}

describe('webstack chart db: 2 Galera members are refused, with the reason', () => {
  it('by values.schema.json: the message names /db/replicaCount and says why', async () => {
    const res = await tryHelmTemplate({ values: { db: { replicaCount: 2 } } });
    assert.equal(res.ok, false);
    assert.match(res.stderr, /values don't meet the specifications of the schema/);
    const lines = res.stderr.split('\n').filter((l) => l.includes("at '/db/replicaCount'"));
    assert.ok(
      lines.some((l) => /2 Galera members cannot keep quorum when one is lost \(Galera needs a majority\)/.test(l)),
      res.stderr,
    );
    assert.match(res.stderr, /db\.mode=standalone/);
  });

  it('by the db template when the schema is skipped: fail names db.replicaCount and says why', async () => {
    const res = await tryHelmTemplate({ values: { db: { replicaCount: 2 } }, extraArgs: noSchema });
    assert.equal(res.ok, false, 'rendered 2 Galera members without the schema');
    assert.match(res.stderr, /templates\/db\//);
    assert.match(res.stderr, quorumReason);
  });

  it('helm lint --strict refuses 2 members too', async () => {
    const res = await helmLint({ values: { db: { replicaCount: 2 } } });
    assert.equal(res.ok, false);
    assert.match(res.stdout + res.stderr, /2 Galera members cannot keep quorum/);
  });

  it('standalone mode is one member whatever replicaCount says: 2 there is not a quorum question', async () => {
    // The schema asks for replicaCount 1 in standalone mode; without it the chart still runs one member.
    const { sts, pdbs } = await renderDb({ mode: 'standalone', replicaCount: 2 }, noSchema);
    assert.equal(sts.spec?.replicas, 1);
    assert.deepEqual(pdbs, []);
  });

  it('the template refuses nothing else: 3, 4 (without the schema) and 5 members render', async () => {
    for (const replicaCount of [3, 4, 5]) {
      const { sts } = await renderDb({ replicaCount }, noSchema);
      assert.equal(sts.spec?.replicas, replicaCount);
    }
  });

  it(
    'with placement.preset ha nothing else is refused at ' + 'render time (node counts are unknown to the chart)',
    async () => {
      for (const replicaCount of [3, 5, 15]) {
        const res = await tryHelmTemplate({
          values: { placement: { preset: 'ha' }, db: { replicaCount }, web: { replicaCount: 10 } },
        });
        assert.ok(res.ok, res.stderr);
      }
    },
  );
});

describe('webstack chart db: the PodDisruptionBudget never allows losing quorum', () => {
  it('default: maxUnavailable 1 of 3 members', async () => {
    const { pdbs } = await renderDb({});
    assert.equal(pdbs.length, 1);
    assert.equal(pdbs[0]?.spec?.maxUnavailable, 1);
  });

  it('accepts what leaves a majority: 2 of 5, 33% of 3 (rounds up to 1), 0 (no voluntary disruption)', async () => {
    for (const [db, want] of [
      [{ replicaCount: 5, podDisruptionBudget: { maxUnavailable: 2 } }, 2],
      [{ podDisruptionBudget: { maxUnavailable: '33%' } }, '33%'],
      [{ podDisruptionBudget: { maxUnavailable: 0 } }, 0],
    ] as const) {
      const { pdbs } = await renderDb(db);
      assert.equal(pdbs[0]?.spec?.maxUnavailable, want);
    }
  });

  it('refuses what leaves no majority, naming the field: 2 of 3, 3 of 5, 34% of 3 (rounds up to 2)', async () => {
    for (const [db, reason] of [
      [{ podDisruptionBudget: { maxUnavailable: 2 } }, /2 of 3 members down leaves no majority.*use at most 1/],
      [
        { replicaCount: 5, podDisruptionBudget: { maxUnavailable: 3 } },
        /3 of 5 members down leaves no majority.*use at most 2/,
      ],
      [{ podDisruptionBudget: { maxUnavailable: '34%' } }, /34% of 3 members down leaves no majority/],
    ] as const) {
      const res = await tryHelmTemplate({ values: { db } });
      assert.equal(res.ok, false, `accepted ${JSON.stringify(db)}`);
      assert.match(res.stderr, /db\.podDisruptionBudget\.maxUnavailable: /);
      assert.match(res.stderr, reason);
      assert.match(res.stderr, /Galera's quorum/);
    }
  });

  it('standalone renders no PDB, so its maxUnavailable is not judged', async () => {
    const { pdbs } = await renderDb({
      mode: 'standalone',
      replicaCount: 1,
      podDisruptionBudget: { maxUnavailable: 5 },
    });
    assert.deepEqual(pdbs, []);
  });
});
