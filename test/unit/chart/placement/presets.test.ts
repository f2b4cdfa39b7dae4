// placement.preset (none, soft, hard, ha) and its merge with the per-component keys (docs/chart.md,
// "Placement"), rendered by the real helm.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { helmTemplate, webstackChartDir } from '../../../../src/chart/helm.js';
import { parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';

type Values = Record<string, unknown>;

async function specs(values?: Values, valuesFiles?: string[]): Promise<Record<string, k8s.V1PodSpec>> {
  const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop', values, valuesFiles }));
  const out: Record<string, k8s.V1PodSpec> = {};
  for (const o of objs as (K8sObject & { spec?: { template?: k8s.V1PodTemplateSpec } })[]) {
    const component = o.metadata.labels?.['app.kubernetes.io/component'];
    if ((o.kind === 'Deployment' || o.kind === 'StatefulSet') && component && o.spec?.template?.spec)
      out[component] = o.spec.template.spec;
  }
  assert.deepEqual(Object.keys(out).sort(), ['db', 'podwatch', 'web']);
  return out;
}

const dbToleration = { key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' };
const required = (s: k8s.V1PodSpec): k8s.V1NodeSelectorRequirement[] | undefined =>
  s.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.flatMap(
    (t) => t.matchExpressions ?? [],
  );
const preferredKeys = (s: k8s.V1PodSpec): string[] =>
  (s.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).flatMap((p) =>
    (p.preference.matchExpressions ?? []).map((e) => e.key),
  );
const selector = (component: string): Record<string, string> => ({
  'app.kubernetes.io/name': 'webstack',
  'app.kubernetes.io/instance': 'ws',
  'app.kubernetes.io/component': component,
});
/** What preset "ha" adds to web: an even spread over the nodes, counted per ReplicaSet. */
const webSpread: k8s.V1TopologySpreadConstraint = {
  labelSelector: { matchLabels: selector('web') },
  matchLabelKeys: ['pod-template-hash'],
  maxSkew: 1,
  topologyKey: 'kubernetes.io/hostname',
  whenUnsatisfiable: 'DoNotSchedule',
};
const oneMemberPerNode = {
  requiredDuringSchedulingIgnoredDuringExecution: [
    { labelSelector: { matchLabels: selector('db') }, topologyKey: 'kubernetes.io/hostname' },
  ],
};
const spreadsByHost = (s: k8s.V1PodSpec, component: string): boolean =>
  (s.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).some(
    (t) =>
      t.podAffinityTerm.topologyKey === 'kubernetes.io/hostname' &&
      t.podAffinityTerm.labelSelector?.matchLabels?.['app.kubernetes.io/component'] === component,
  );

describe('webstack chart: placement presets', () => {
  it('soft (the default): prefers the role nodes, spreads by host, db tolerates the db taint', async () => {
    const s = await specs();
    assert.deepEqual(preferredKeys(s.web!), ['node-role.kstack.io/web']);
    assert.deepEqual(preferredKeys(s.db!), ['node-role.kstack.io/db']);
    assert.equal(required(s.web!), undefined);
    assert.equal(required(s.db!), undefined);
    for (const c of ['web', 'db', 'podwatch']) assert.ok(spreadsByHost(s[c]!, c), `${c} prefers one pod per node`);
    assert.deepEqual(s.db!.tolerations, [dbToleration]);
    assert.equal(s.web!.tolerations, undefined, 'web does not tolerate the db taint');
    assert.equal(s.podwatch!.affinity?.nodeAffinity, undefined);
    for (const c of ['web', 'db', 'podwatch']) assert.equal(s[c]!.topologySpreadConstraints, undefined, c);
  });

  it(
    'hard: requires web nodes for web and db nodes for db ' + '(with the toleration); anti-affinity stays preferred',
    async () => {
      const s = await specs({ placement: { preset: 'hard' } });
      assert.deepEqual(required(s.web!), [{ key: 'node-role.kstack.io/web', operator: 'Exists' }]);
      assert.deepEqual(required(s.db!), [{ key: 'node-role.kstack.io/db', operator: 'Exists' }]);
      assert.deepEqual(s.db!.tolerations, [dbToleration]);
      assert.equal(
        s.db!.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
        undefined,
        'no required anti-affinity: 3 members may share 2 db nodes',
      );
      assert.ok(spreadsByHost(s.db!, 'db'));
      for (const c of ['web', 'db', 'podwatch']) assert.equal(s[c]!.topologySpreadConstraints, undefined, c);
    },
  );

  it('ha: hard, plus one db member per node (required) and web spread evenly over the web nodes', async () => {
    const s = await specs({ placement: { preset: 'ha' } });
    const hard = await specs({ placement: { preset: 'hard' } });
    // Everything hard does.
    assert.deepEqual(required(s.web!), [{ key: 'node-role.kstack.io/web', operator: 'Exists' }]);
    assert.deepEqual(required(s.db!), [{ key: 'node-role.kstack.io/db', operator: 'Exists' }]);
    assert.deepEqual(s.db!.tolerations, [dbToleration]);
    assert.equal(s.web!.tolerations, undefined);
    // db: the required anti-affinity instead of the preferred one.
    assert.deepEqual(s.db!.affinity?.podAntiAffinity, oneMemberPerNode);
    assert.equal(s.db!.topologySpreadConstraints, undefined);
    // web: the spread, and the preferred anti-affinity stays.
    assert.deepEqual(s.web!.topologySpreadConstraints, [webSpread]);
    assert.deepEqual(s.web!.affinity, hard.web!.affinity);
    assert.ok(spreadsByHost(s.web!, 'web'));
    // podwatch: unchanged (one pod per node preferred, nothing else).
    assert.deepEqual(s.podwatch, hard.podwatch);
    assert.ok(spreadsByHost(s.podwatch!, 'podwatch'));
    assert.equal(s.podwatch!.topologySpreadConstraints, undefined);
  });

  it('ha: the backup Jobs get exactly what hard gives them', async () => {
    const backupPod = async (preset: string): Promise<k8s.V1PodSpec | undefined> => {
      const objs = parseManifests(
        await helmTemplate({
          release: 'ws',
          namespace: 'shop',
          values: { placement: { preset }, backup: { enabled: true, storage: { bucket: 'backups' } } },
        }),
      );
      const cron = objs.find((o) => o.kind === 'CronJob') as
        (K8sObject & { spec: { jobTemplate: { spec: { template: k8s.V1PodTemplateSpec } } } }) | undefined;
      return cron?.spec.jobTemplate.spec.template.spec;
    };
    const [ha, hard] = [await backupPod('ha'), await backupPod('hard')];
    assert.ok(ha && hard);
    assert.deepEqual(
      [ha.affinity, ha.tolerations, ha.topologySpreadConstraints],
      [hard.affinity, hard.tolerations, hard.topologySpreadConstraints],
    );
  });

  it('values-local.yaml uses ha', async () => {
    const s = await specs(undefined, [join(webstackChartDir, 'values-local.yaml')]);
    assert.deepEqual(required(s.db!), [{ key: 'node-role.kstack.io/db', operator: 'Exists' }]);
    assert.deepEqual(required(s.web!), [{ key: 'node-role.kstack.io/web', operator: 'Exists' }]);
    assert.deepEqual(s.db!.affinity?.podAntiAffinity, oneMemberPerNode);
    assert.deepEqual(s.web!.topologySpreadConstraints, [webSpread]);
  });

  it('none: nothing but the explicit keys (a db without its toleration)', async () => {
    const s = await specs({ placement: { preset: 'none' } });
    for (const c of ['web', 'db', 'podwatch']) {
      assert.equal(s[c]!.affinity, undefined, c);
      assert.equal(s[c]!.tolerations, undefined, c);
    }
  });

  it('label keys and the taint are values', async () => {
    const s = await specs({
      placement: {
        preset: 'hard',
        dbNodeLabel: 'example.com/database',
        dbTaint: { key: 'role', value: 'database', effect: 'NoExecute' },
      },
    });
    assert.deepEqual(required(s.db!), [{ key: 'example.com/database', operator: 'Exists' }]);
    assert.deepEqual(s.db!.tolerations, [{ key: 'role', operator: 'Equal', value: 'database', effect: 'NoExecute' }]);
  });
});

describe('webstack chart: placement merge rule', () => {
  it("an explicit nodeAffinity replaces the preset's; the preset's anti-affinity stays", async () => {
    const nodeAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }],
      },
    };
    const s = await specs({ placement: { preset: 'hard' }, db: { affinity: { nodeAffinity } } });
    assert.deepEqual(s.db!.affinity?.nodeAffinity, nodeAffinity);
    assert.ok(spreadsByHost(s.db!, 'db'));
  });

  it("an explicit podAntiAffinity replaces the preset's; the preset's node affinity stays", async () => {
    const podAntiAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { x: 'y' } } },
      ],
    };
    const s = await specs({ placement: { preset: 'soft' }, web: { affinity: { podAntiAffinity } } });
    assert.deepEqual(s.web!.affinity?.podAntiAffinity, podAntiAffinity);
    assert.deepEqual(preferredKeys(s.web!), ['node-role.kstack.io/web']);
  });

  it('tolerations add up, without repeating an identical one', async () => {
    const extra = { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' };
    const s = await specs({ placement: { preset: 'hard' }, db: { tolerations: [dbToleration, extra] } });
    assert.deepEqual(s.db!.tolerations, [dbToleration, extra]);
  });

  it("ha: an explicit web.topologySpreadConstraints replaces the preset's; the rest of ha stays", async () => {
    const tsc = [
      {
        maxSkew: 2,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selector('web') },
      },
    ];
    const s = await specs({ placement: { preset: 'ha' }, web: { topologySpreadConstraints: tsc } });
    assert.deepEqual(s.web!.topologySpreadConstraints, tsc);
    assert.deepEqual(required(s.web!), [{ key: 'node-role.kstack.io/web', operator: 'Exists' }]);
    assert.ok(spreadsByHost(s.web!, 'web'));
    assert.deepEqual(s.db!.affinity?.podAntiAffinity, oneMemberPerNode);
  });

  it(
    'ha: an explicit db podAntiAffinity replaces the required one; ' + "db spread constraints add to ha's db part",
    async () => {
      const podAntiAffinity = {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 10,
            podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector('db') } },
          },
        ],
      };
      const tsc = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }];
      const s = await specs({
        placement: { preset: 'ha' },
        db: { affinity: { podAntiAffinity }, topologySpreadConstraints: tsc },
      });
      assert.deepEqual(s.db!.affinity?.podAntiAffinity, podAntiAffinity);
      assert.deepEqual(required(s.db!), [{ key: 'node-role.kstack.io/db', operator: 'Exists' }]);
      assert.deepEqual(s.db!.topologySpreadConstraints, tsc);
    },
  );

  it('nodeSelector, topologySpreadConstraints and priorityClassName apply as given, next to the preset', async () => {
    const tsc = [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'web' } },
      },
    ];
    const s = await specs({
      placement: { preset: 'hard' },
      web: { nodeSelector: { disk: 'ssd' }, topologySpreadConstraints: tsc, priorityClassName: 'high' },
    });
    assert.deepEqual(s.web!.nodeSelector, { disk: 'ssd' });
    assert.deepEqual(s.web!.topologySpreadConstraints, tsc);
    assert.equal(s.web!.priorityClassName, 'high');
    assert.deepEqual(required(s.web!), [{ key: 'node-role.kstack.io/web', operator: 'Exists' }]);
  });
});
