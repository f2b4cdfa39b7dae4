// The chart's `helm test` pods (templates/tests/) and the NetworkPolicy rules that let them work
// (templates/network/tests.yaml, the test-db rule of templates/network/db.yaml), rendered by the real helm:
// hooks, labels, images, security, what each pod is told, and — through our NetworkPolicy evaluator —
// that each test pod reaches exactly what its test needs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { helmLint, helmTemplate, tryHelmTemplate, webstackChartDir } from '../../../../src/chart/helm.js';
import { parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';
import { buildModel, evaluate, podEndpoint, type PodInfo } from '../../../../src/netpol/evaluator.js';
import { networkPoliciesOf, podInfo } from '../../../../src/netpol/objects.js';
import { join } from 'node:path';

type Values = Record<string, unknown>;
const NS = 'shop';
const TESTS = ['ws-webstack-test-page', 'ws-webstack-test-db', 'ws-webstack-test-db-closed'];

async function render(values: Values = {}, valuesFiles?: string[]): Promise<K8sObject[]> {
  return parseManifests(await helmTemplate({ release: 'ws', namespace: NS, values, valuesFiles }));
}

/** The test hooks in helm's run order (hook weight; helm template prints them in another order). */
const testPods = (objs: K8sObject[]): V1Pod[] =>
  (objs.filter((o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test') as V1Pod[]).sort(
    (a, b) =>
      Number(a.metadata?.annotations?.['helm.sh/hook-weight']) -
      Number(b.metadata?.annotations?.['helm.sh/hook-weight']),
  );

function pod(objs: K8sObject[], name: string): V1Pod {
  const p = testPods(objs).find((o) => o.metadata?.name === name);
  assert.ok(p, `test pod ${name}`);
  return p;
}

const env = (p: V1Pod): Record<string, unknown> =>
  Object.fromEntries((p.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

const policies = (objs: K8sObject[]): V1NetworkPolicy[] => objs.filter((o) => o.kind === 'NetworkPolicy');

describe('webstack chart tests: the pods', () => {
  it('renders three test hooks, in order, kept after they end and replaced on the next run', async () => {
    const pods = testPods(await render());
    assert.deepEqual(
      pods.map((p) => p.metadata?.name),
      TESTS,
    );
    for (const [i, p] of pods.entries()) {
      assert.deepEqual(p.metadata?.annotations, {
        'helm.sh/hook': 'test',
        'helm.sh/hook-delete-policy': 'before-hook-creation',
        'helm.sh/hook-weight': String(i + 1),
      });
      assert.equal(p.metadata?.namespace, NS);
      assert.equal(p.spec?.restartPolicy, 'Never');
      assert.equal(p.spec?.activeDeadlineSeconds, 90, 'tests.timeoutSeconds + 30');
    }
  });

  it("labels each with the release's selector labels and its own component, never web's", async () => {
    const pods = testPods(await render());
    assert.deepEqual(
      pods.map((p) => p.metadata?.labels?.['app.kubernetes.io/component']),
      ['test-page', 'test-db', 'test-db-closed'],
    );
    for (const p of pods) {
      const l = p.metadata?.labels ?? {};
      assert.equal(l['app.kubernetes.io/name'], 'webstack');
      assert.equal(l['app.kubernetes.io/instance'], 'ws');
      assert.equal(l['app.kubernetes.io/managed-by'], 'Helm');
      assert.equal(l['app.kubernetes.io/part-of'], 'webstack');
      assert.equal(l['helm.sh/chart'], 'webstack-0.1.0');
    }
  });

  it('runs the in-image program of the webinfo image, where webinfo runs, with the test name', async () => {
    const pods = testPods(await render());
    assert.deepEqual(
      pods.map((p) => p.spec?.containers[0]?.command),
      [
        ['node', 'dist/src/charttest/main.js', 'page'],
        ['node', 'dist/src/charttest/main.js', 'db-status'],
        ['node', 'dist/src/charttest/main.js', 'db-closed'],
      ],
    );
    for (const p of pods) {
      const c = p.spec?.containers[0];
      assert.equal(p.spec?.containers.length, 1);
      assert.equal(c?.image, 'kstack/kstack:0.1.0');
      assert.equal(c?.imagePullPolicy, 'IfNotPresent');
      assert.equal(c?.workingDir, '/opt/kstack');
      assert.deepEqual(c?.resources, { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } });
    }
  });

  it('meets Pod Security "restricted" and mounts no token', async () => {
    for (const p of testPods(await render())) {
      assert.equal(p.spec?.automountServiceAccountToken, false);
      assert.equal(p.spec?.enableServiceLinks, false);
      assert.deepEqual(p.spec?.securityContext, {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      assert.deepEqual(p.spec?.containers[0]?.securityContext, {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
  });

  it('follows webinfo.image (digest, registry mirror), pull secrets, placement and overrides', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const pods = testPods(
      await render({
        global: { imageRegistry: 'mirror.example:5000', imagePullSecrets: ['regcred'] },
        webinfo: { image: { repository: 'kstack/kstack', tag: '0.2.0', digest, pullPolicy: 'Always' } },
        tests: {
          timeoutSeconds: 120,
          connectTimeoutSeconds: 5,
          nodeSelector: { pool: 'ops' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
          securityContext: { runAsUser: 4242 },
        },
      }),
    );
    assert.equal(pods.length, 3);
    for (const p of pods) {
      const c = p.spec?.containers[0];
      assert.equal(c?.image, `mirror.example:5000/kstack/kstack:0.2.0@${digest}`);
      assert.equal(c?.imagePullPolicy, 'Always');
      assert.deepEqual(p.spec?.imagePullSecrets, [{ name: 'regcred' }]);
      assert.deepEqual(p.spec?.nodeSelector, { pool: 'ops' });
      assert.equal(p.spec?.tolerations?.[0]?.value, 'ops');
      assert.equal(c?.securityContext?.runAsUser, 4242);
      assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(p.spec?.activeDeadlineSeconds, 150);
      assert.equal(env(p).CHARTTEST_TIMEOUT_SECONDS, '120');
      assert.equal(env(p).CHARTTEST_CONNECT_TIMEOUT_SECONDS, '5');
    }
  });
});

describe('webstack chart tests: what each test is told', () => {
  it('page: the web Service by its DNS name and port, the serving-host form, webinfo and db on', async () => {
    const objs = await render({
      web: { service: { port: 8000 }, page: { servingHostFormat: 'srv-{suffix}', suffixLength: 4 } },
    });
    assert.deepEqual(env(pod(objs, 'ws-webstack-test-page')), {
      CHARTTEST_TIMEOUT_SECONDS: '60',
      CHARTTEST_CONNECT_TIMEOUT_SECONDS: '3',
      CHARTTEST_WEB_URL: 'http://ws-webstack-web.shop.svc.cluster.local:8000',
      CHARTTEST_SERVING_HOST_FORMAT: 'srv-{suffix}',
      CHARTTEST_SUFFIX_LENGTH: '4',
      CHARTTEST_REQUESTS: '6',
      CHARTTEST_WEBINFO: 'true',
      CHARTTEST_EXPECT_DATA: 'true',
    });
    const noDb = env(pod(await render({ db: { enabled: false } }), 'ws-webstack-test-page'));
    assert.equal(noDb.CHARTTEST_EXPECT_DATA, 'false');
    const own = env(
      pod(
        await render({ webinfo: { env: [{ name: 'WEBINFO_DATA_SOURCE', value: 'none' }] } }),
        'ws-webstack-test-page',
      ),
    );
    assert.equal(own.CHARTTEST_EXPECT_DATA, 'false', "webinfo's own data source is not the chart's db");
    const noWebinfo = env(pod(await render({ webinfo: { enabled: false } }), 'ws-webstack-test-page'));
    assert.equal(noWebinfo.CHARTTEST_WEBINFO, 'false');
  });

  it(
    'db: every member by its stable name, counted from db.replicaCount, ' + 'and the app password from the db Secret',
    async () => {
      const member = (i: number): string => `ws-webstack-db-${i}.ws-webstack-db-headless.shop.svc.cluster.local`;
      const e = env(pod(await render(), 'ws-webstack-test-db'));
      assert.deepEqual(e, {
        CHARTTEST_TIMEOUT_SECONDS: '60',
        CHARTTEST_CONNECT_TIMEOUT_SECONDS: '3',
        CHARTTEST_DB_MEMBERS: [0, 1, 2].map(member).join(','),
        CHARTTEST_DB_PORT: '3306',
        CHARTTEST_DB_MODE: 'galera',
        CHARTTEST_DB_USER: 'app',
        CHARTTEST_DB_PASSWORD: { secretKeyRef: { name: 'ws-webstack-db', key: 'mariadb-password' } },
        CHARTTEST_DB_TLS_CA: { secretKeyRef: { name: 'ws-webstack-db-tls', key: 'ca.crt' } },
      });
      const five = env(
        pod(await render({ db: { replicaCount: 5, clusterDomain: 'k8s.example' } }), 'ws-webstack-test-db'),
      );
      assert.equal(String(five.CHARTTEST_DB_MEMBERS).split(',').length, 5);
      assert.match(
        String(five.CHARTTEST_DB_MEMBERS),
        /^ws-webstack-db-0\.ws-webstack-db-headless\.shop\.svc\.k8s\.example,/,
      );
      const alone = env(pod(await render({ db: { mode: 'standalone', replicaCount: 1 } }), 'ws-webstack-test-db'));
      assert.equal(alone.CHARTTEST_DB_MEMBERS, member(0));
      assert.equal(alone.CHARTTEST_DB_MODE, 'standalone');
      const secret = env(
        pod(await render({ db: { auth: { existingSecret: 'mine', username: 'shop' } } }), 'ws-webstack-test-db'),
      );
      assert.deepEqual(secret.CHARTTEST_DB_PASSWORD, { secretKeyRef: { name: 'mine', key: 'mariadb-password' } });
      assert.equal(secret.CHARTTEST_DB_USER, 'shop');
    },
  );

  it('db-closed: every member on the SQL and Galera ports, and the web Service as the control', async () => {
    const e = env(pod(await render({ db: { ports: { galera: 14567 } } }), 'ws-webstack-test-db-closed'));
    assert.equal(String(e.CHARTTEST_DB_MEMBERS).split(',').length, 3);
    assert.equal(e.CHARTTEST_CLOSED_PORTS, '3306,14567');
    assert.equal(e.CHARTTEST_CONTROL, 'ws-webstack-web.shop.svc.cluster.local:80');
  });
});

describe('webstack chart tests: switches', () => {
  it('tests.enabled=false renders no test pod and no test policy, and the db policy admits no test pod', async () => {
    const on = await render();
    const off = await render({ tests: { enabled: false } });
    assert.deepEqual(testPods(off), []);
    const names = (objs: K8sObject[]): string[] => policies(objs).map((p) => p.metadata?.name ?? '');
    assert.deepEqual(
      names(on).filter((n) => !names(off).includes(n)),
      ['ws-webstack-test-page', 'ws-webstack-test-db', 'ws-webstack-test-db-closed'],
    );
    const dbPolicy = (objs: K8sObject[]): string =>
      JSON.stringify(policies(objs).find((p) => p.metadata?.name === 'ws-webstack-db'));
    assert.match(dbPolicy(on), /test-db/);
    assert.doesNotMatch(dbPolicy(off), /test-/);
  });

  it('each test can be turned off on its own; db tests need db, db-closed needs NetworkPolicies', async () => {
    const names = async (values: Values): Promise<(string | undefined)[]> =>
      testPods(await render(values)).map((p) => p.metadata?.name);
    assert.deepEqual(await names({ tests: { page: { enabled: false } } }), TESTS.slice(1));
    assert.deepEqual(await names({ tests: { db: { enabled: false } } }), [TESTS[0], TESTS[2]]);
    assert.deepEqual(await names({ tests: { dbClosed: { enabled: false } } }), TESTS.slice(0, 2));
    assert.deepEqual(await names({ db: { enabled: false } }), [TESTS[0]]);
    const noPolicies = await render({ networkPolicy: { enabled: false } });
    assert.deepEqual(
      testPods(noPolicies).map((p) => p.metadata?.name),
      TESTS.slice(0, 2),
    );
    assert.deepEqual(policies(noPolicies), []);
    const noDbTest = policies(await render({ tests: { db: { enabled: false } } }));
    assert.doesNotMatch(JSON.stringify(noDbTest.find((p) => p.metadata?.name === 'ws-webstack-db')), /test-db/);
  });

  it('helm lint --strict is clean with the tests on, off, and with local values', async () => {
    for (const values of [
      {},
      { tests: { enabled: false } },
      { networkPolicy: { web: { allowFromAnywhere: false } } },
    ]) {
      const res = await helmLint({ values });
      assert.ok(res.ok, `${JSON.stringify(values)}: ${res.stdout}${res.stderr}`);
    }
    const local = await helmLint({ valuesFiles: [join(webstackChartDir, 'values-local.yaml')] });
    assert.ok(local.ok, local.stdout + local.stderr);
  });

  it('the schema refuses unknown and out-of-range test values, naming the field', async () => {
    const cases: [Values, string, RegExp][] = [
      [{ tests: { retries: 3 } }, '/tests', /additional properties 'retries' not allowed/],
      [{ tests: { page: { path: '/' } } }, '/tests/page', /additional properties 'path' not allowed/],
      [{ tests: { dbClosed: { ports: [22] } } }, '/tests/dbClosed', /additional properties 'ports' not allowed/],
      [{ tests: { page: { requests: 0 } } }, '/tests/page/requests', /minimum/],
      [{ tests: { timeoutSeconds: 1 } }, '/tests/timeoutSeconds', /minimum/],
      [{ tests: { enabled: 'yes' } }, '/tests/enabled', /boolean/],
      [{ tests: { resources: { requests: { gpu: 1 } } } }, '/tests/resources/requests', /additional properties 'gpu'/],
    ];
    for (const [values, field, reason] of cases) {
      const res = await tryHelmTemplate({ values });
      assert.equal(res.ok, false, `accepted ${JSON.stringify(values)}`);
      assert.ok(res.stderr.includes(`at '${field}'`), `${JSON.stringify(values)} names ${field}:\n${res.stderr}`);
      assert.match(res.stderr, reason);
    }
  });
});

describe('webstack chart tests: the NetworkPolicies let each test do exactly its job', () => {
  /** The rendered test pods and one web and db pod (from their templates), with addresses. */
  async function model(values: Values = {}): Promise<ReturnType<typeof buildModel>> {
    const objs = await render(values);
    const fromTemplate = (kind: string, component: string, name: string, ip: string): PodInfo => {
      const w = objs.find((o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/component'] === component);
      assert.ok(w);
      const t = (w.spec as { template: V1Pod }).template;
      return podInfo({
        metadata: { labels: t.metadata?.labels ?? {}, name, namespace: NS },
        spec: t.spec,
        status: { podIP: ip, phase: 'Running' },
      });
    };
    const pods: PodInfo[] = [
      fromTemplate('Deployment', 'web', 'web-a', '10.244.1.10'),
      fromTemplate('StatefulSet', 'db', 'db-0', '10.244.2.10'),
      ...testPods(objs).map((p, i) =>
        podInfo({
          metadata: { labels: p.metadata?.labels ?? {}, name: p.metadata?.name ?? '', namespace: NS },
          spec: p.spec,
          status: { podIP: `10.244.1.${30 + i}`, phase: 'Running' },
        }),
      ),
      {
        namespace: 'kube-system',
        name: 'coredns',
        labels: { 'k8s-app': 'kube-dns' },
        ips: ['10.244.1.2'],
        ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
      },
    ];
    const { policies: compiled, ignored } = networkPoliciesOf(objs, NS);
    assert.deepEqual(ignored, []);
    return buildModel({ namespaces: [{ name: NS }, { name: 'kube-system' }], pods, policies: compiled });
  }
  const at = (name: string): ReturnType<typeof podEndpoint> =>
    podEndpoint(name === 'coredns' ? 'kube-system' : NS, name);
  const open = (
    m: ReturnType<typeof buildModel>,
    from: string,
    to: string,
    port: number,
    protocol: 'TCP' | 'UDP' = 'TCP',
  ): boolean => evaluate(m, { from: at(from), to: at(to), port, protocol }).allowed;

  it('page reaches web:8080 and DNS only; db reaches db:3306 only; db-closed reaches web but not the db', async () => {
    const m = await model();
    const [page, db, closed] = TESTS as [string, string, string];
    const matrix = {
      [page]: {
        web: open(m, page, 'web-a', 8080),
        db3306: open(m, page, 'db-0', 3306),
        dns: open(m, page, 'coredns', 53, 'UDP'),
      },
      [db]: {
        web: open(m, db, 'web-a', 8080),
        db3306: open(m, db, 'db-0', 3306),
        db4567: open(m, db, 'db-0', 4567),
        db8081: open(m, db, 'db-0', 8081),
      },
      [closed]: {
        web: open(m, closed, 'web-a', 8080),
        db3306: open(m, closed, 'db-0', 3306),
        db4567: open(m, closed, 'db-0', 4567),
      },
    };
    assert.deepEqual(matrix, {
      [page]: { web: true, db3306: false, dns: true },
      [db]: { web: false, db3306: true, db4567: false, db8081: false },
      [closed]: { web: true, db3306: false, db4567: false },
    });
  });

  it("db-closed is stopped by the db's ingress alone: its own egress allows the db ports", async () => {
    const m = await model();
    const closed = TESTS[2] as string;
    for (const port of [3306, 4567]) {
      const v = evaluate(m, { from: podEndpoint(NS, closed), to: podEndpoint(NS, 'db-0'), port });
      assert.equal(v.egress?.allowed, true, `egress to db:${port}: ${v.reason}`);
      assert.equal(v.ingress?.allowed, false, `ingress at db:${port}: ${v.reason}`);
    }
  });

  it(
    'with web closed to the world (allowFromAnywhere false), ' +
      'web still admits page and db-closed, and nobody else new',
    async () => {
      const m = await model({ networkPolicy: { web: { allowFromAnywhere: false } } });
      const [page, db, closed] = TESTS as [string, string, string];
      assert.deepEqual(
        [
          open(m, page, 'web-a', 8080),
          open(m, closed, 'web-a', 8080),
          open(m, db, 'web-a', 8080),
          open(m, 'db-0', 'web-a', 8080),
        ],
        [true, true, false, false],
      );
    },
  );
});
