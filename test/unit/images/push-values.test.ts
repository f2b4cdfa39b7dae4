// The values file `kstack images push` prints: every image key of values-local.yaml pointed at the pushed
// images (repository, tag, digest, IfNotPresent), the exporter paths that go with kstack's images, the pull
// Secret, nothing else; helm accepts it against values.schema.json and renders the pinned references.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { helmLint, helmTemplate, webstackChartDir } from '../../../src/chart/helm.js';
import { parseManifests } from '../../../src/chart/manifests.js';
import {
  CHART_IMAGE_COMPANIONS,
  CHART_IMAGE_KEYS,
  chartValuesForPushed,
  checkPullSecretName,
  monitoringImageComment,
  parseMonitoringImageComment,
  pullSecretHint,
  renderPushValuesFile,
  type PushedImage,
} from '../../../src/images/push-values.js';
import { LOCAL_REGISTRY, type ImageName } from '../../../src/images/recipes.js';

const digestOf = (c: string): string => `sha256:${c.repeat(64)}`;
const pushedImage = (name: ImageName, c: string): PushedImage => ({
  name,
  repository: `registry.example:5000/team/${name}`,
  // Digits and one 'e': a number in YAML unless quoted.
  tag: `1e${c === 'a' ? '1' : '2'}`,
  digest: digestOf(c),
});
const STACK: PushedImage[] = [
  pushedImage('nginx', 'a'),
  pushedImage('node', 'b'),
  pushedImage('mariadb', 'c'),
  pushedImage('monitoring', 'e'),
];

type Tree = Record<string, unknown>;
const at = (tree: Tree, path: readonly string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Tree | undefined)?.[key], tree);

/** Every path in a values tree whose value is an image map (it has a repository). */
function imagePaths(tree: Tree, prefix: string[] = []): { path: string[]; repository: string }[] {
  return Object.entries(tree).flatMap(([key, value]) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
    const repository = (value as Tree).repository;
    if (key === 'image' && typeof repository === 'string') return [{ path: [...prefix, key], repository }];
    return imagePaths(value as Tree, [...prefix, key]);
  });
}

const localValues = parse(readFileSync(join(webstackChartDir, 'values-local.yaml'), 'utf8')) as Tree;

describe('images push: the values for the pushed images', () => {
  it('covers exactly the image keys values-local.yaml sets, each with the image it names there', () => {
    const local = imagePaths(localValues).map((i) => ({
      path: i.path.join('.'),
      image: i.repository.slice(`${LOCAL_REGISTRY}/`.length),
    }));
    assert.deepEqual(
      CHART_IMAGE_KEYS.map((k) => ({ path: k.path.join('.'), image: k.image })).sort((a, b) =>
        a.path.localeCompare(b.path),
      ),
      local.sort((a, b) => a.path.localeCompare(b.path)),
    );
  });

  it("carries the values-local.yaml values that exist because of kstack's images (the exporter paths)", () => {
    for (const c of CHART_IMAGE_COMPANIONS) assert.equal(at(localValues, c.path), c.value, c.path.join('.'));
    const binaries = JSON.stringify(localValues).match(/"binary":"[^"]+"/g) ?? [];
    assert.equal(binaries.length, CHART_IMAGE_COMPANIONS.length, 'every binary of values-local.yaml is carried');
  });

  it('pins every image key by repository, tag and digest, pulled IfNotPresent', () => {
    const values = chartValuesForPushed(STACK);
    for (const { path, image } of CHART_IMAGE_KEYS) {
      const p = STACK.find((s) => s.name === image);
      assert.deepEqual(
        at(values, path),
        { repository: p?.repository, tag: p?.tag, digest: p?.digest, pullPolicy: 'IfNotPresent' },
        path.join('.'),
      );
    }
    assert.equal(at(values, ['web', 'metrics', 'binary']), '/usr/bin/prometheus-nginx-exporter');
    assert.equal(at(values, ['db', 'metrics', 'binary']), '/usr/bin/prometheus-mysqld-exporter');
    assert.deepEqual(Object.keys(values).sort(), ['db', 'podwatch', 'web', 'webinfo'], 'image keys only');
    assert.equal(at(values, ['global']), undefined, 'no pull Secret unless asked');
  });

  it('names the pull Secret in global.imagePullSecrets when asked', () => {
    assert.deepEqual(at(chartValuesForPushed(STACK, { pullSecret: 'regcred' }), ['global']), {
      imagePullSecrets: ['regcred'],
    });
  });

  it('sets only the keys of the images pushed', () => {
    const values = chartValuesForPushed([pushedImage('nginx', 'a')]);
    assert.deepEqual(values, {
      web: {
        image: { repository: STACK[0]?.repository, tag: '1e1', digest: digestOf('a'), pullPolicy: 'IfNotPresent' },
        metrics: {
          image: { repository: STACK[0]?.repository, tag: '1e1', digest: digestOf('a'), pullPolicy: 'IfNotPresent' },
          binary: '/usr/bin/prometheus-nginx-exporter',
        },
      },
    });
    assert.deepEqual(chartValuesForPushed([pushedImage('pause', 'f')]), {});
  });

  it('refuses a digest that is not sha256:<64 hex>', () => {
    assert.throws(() => chartValuesForPushed([{ ...pushedImage('node', 'b'), digest: 'sha256:abc' }]), /node/);
  });

  it('writes a file helm reads back as the same values, tags kept as strings, with the monitoring comment', () => {
    const text = renderPushValuesFile(STACK, { server: 'registry.example:5000', pullSecret: 'regcred' });
    assert.deepEqual(parse(text, { version: '1.1' }), chartValuesForPushed(STACK, { pullSecret: 'regcred' }));
    assert.match(text, /^# Helm values for charts\/webstack: .*registry\.example:5000/);
    assert.ok(text.split('\n').includes(monitoringImageComment(STACK[3] as PushedImage)));
    assert.deepEqual(parseMonitoringImageComment(text), {
      repository: 'registry.example:5000/team/monitoring',
      digest: digestOf('e'),
      ref: `registry.example:5000/team/monitoring@${digestOf('e')}`,
    });
  });

  it('without the monitoring image the file has no monitoring comment, and without chart images it is {}', () => {
    const text = renderPushValuesFile([pushedImage('pause', 'f')], { server: 'r.example' });
    assert.equal(parseMonitoringImageComment(text), undefined);
    assert.deepEqual(parse(text), {});
  });

  it(
    'passes helm lint --strict (values.schema.json) and ' + 'renders every container pinned to the pushed digest',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kstack-push-values-'));
      try {
        const file = join(dir, 'pushed.yaml');
        writeFileSync(file, renderPushValuesFile(STACK, { server: 'registry.example:5000', pullSecret: 'regcred' }));
        const lint = await helmLint({ valuesFiles: [file] });
        assert.ok(lint.ok, `helm lint: ${lint.stdout}\n${lint.stderr}`);
        const objs = parseManifests(await helmTemplate({ valuesFiles: [file] }));
        const pods = objs
          .map((o) => (o.spec as { template?: { spec?: PodSpecLike } } | undefined)?.template?.spec)
          .filter((s): s is PodSpecLike => s !== undefined);
        assert.ok(pods.length > 0);
        const expected = new Set(STACK.map((p) => `${p.repository}:${p.tag}@${p.digest}`));
        for (const pod of pods) {
          assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
          for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
            assert.ok(expected.has(c.image), `${c.name}: ${c.image} is a pushed image`);
            assert.equal(c.imagePullPolicy, 'IfNotPresent', c.name);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

interface PodSpecLike {
  containers: { name: string; image: string; imagePullPolicy?: string }[];
  initContainers?: { name: string; image: string; imagePullPolicy?: string }[];
  imagePullSecrets?: { name: string }[];
}

describe('images push: the monitoring comment line', () => {
  const digest = digestOf('9');
  it('reads the reference from its line anywhere in the file', () => {
    assert.deepEqual(
      parseMonitoringImageComment(`# a\nweb: {}\n# kstack monitoring image: 10.0.0.1:5000/m@${digest}\n`),
      {
        repository: '10.0.0.1:5000/m',
        digest,
        ref: `10.0.0.1:5000/m@${digest}`,
      },
    );
  });
  it('ignores other lines and malformed references', () => {
    assert.equal(parseMonitoringImageComment('web: {}\n'), undefined);
    assert.equal(parseMonitoringImageComment('# kstack monitoring image: r/m:tag\n'), undefined);
    assert.equal(parseMonitoringImageComment('# kstack monitoring image: r/m@sha256:abc\n'), undefined);
    assert.equal(parseMonitoringImageComment(`  # kstack monitoring image: r/m@${digest}\n`), undefined);
  });
});

describe('images push: the pull Secret', () => {
  it('takes a DNS label and refuses anything else, naming the flag', () => {
    assert.equal(checkPullSecretName('regcred-1'), 'regcred-1');
    for (const bad of ['RegCred', '-x', 'x_y', 'a'.repeat(64), ''])
      assert.throws(() => checkPullSecretName(bad), /^UserError: --pull-secret '.*' is not a Secret name/);
  });
  it('hints the exact kubectl command, with the password left to the environment', () => {
    assert.equal(
      pullSecretHint('regcred', 'r.example:5000', 'ci'),
      'kubectl create secret docker-registry regcred --namespace NAMESPACE ' +
        '--docker-server=r.example:5000 --docker-username=ci --docker-password="$REGISTRY_PASSWORD"',
    );
    assert.match(pullSecretHint('regcred', 'r.example', undefined), /--docker-username=USERNAME /);
  });
});
