// The chart and kstack on a cluster kstack did not make, the way README's "Using kstack with an existing
// cluster" says: the stack's images pushed to a real OCI registry (TLS from its own CA, basic auth), a
// cluster whose nodes hold none of them and pull them with an image pull Secret, `helm install` with the
// values `kstack images push` printed, `helm test` green (and red with the policy engine stopped), then
// `kstack up --context … --with-monitoring` and `kstack prove --context` with every row PASS, 0 skipped.
// kstack's commands run as a user runs them (a child process of the CLI), against a kubeconfig context
// only, with an empty state folder: nothing of the local cluster's state is known to them.
import { REQUIREMENTS } from '../../src/prove/requirements/index.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { controlPlaneDown } from '../../src/cluster/control-plane.js';
import { clusterLayout } from '../../src/cluster/layout.js';
import { localS3Credentials, localS3Secret, localS3Values } from '../../src/cluster/addons/local-s3.js';
import { defaultNodeSettings, networkPlanFor } from '../../src/cluster/nodes/cluster-nodes.js';
import { nodeLayout } from '../../src/cluster/nodes/node-layout.js';
import { webstackChartDir } from '../../src/chart/helm.js';
import { ensureKubectlAndHelm } from '../../src/setup/kubectl-layer.js';
import { run } from '../../src/util/exec.js';
import { createProgress } from '../../src/util/progress.js';
import { e2eCluster } from '../helpers/e2e-cluster.js';
import { assertNothingLeft } from '../helpers/local-cluster.js';
import { RegistryServer } from '../helpers/registry.js';
import { runHelmTest } from '../helpers/helm-test.js';
import { Kube } from '../../src/kube/kube.js';
import { readState } from '../../src/cluster/state.js';
import { stopDaemon } from '../../src/util/process.js';

const own = e2eCluster('any');
const { name: CLUSTER, baseDir } = own;
const progress = createProgress();
const NAMESPACE = 'webstack';
const RELEASE = 'web';
const CONTEXT = 'foreign';
const PULL_SECRET = 'kstack-registry';
const cli = resolve('dist/src/cli/main.js');

let kubectl = '';
let helm = '';
let registry: RegistryServer | undefined;
let work = '';
let kubeconfig = '';
/** kstack's environment for the commands "on another cluster": an empty state folder, a kubeconfig. */
let foreignEnv: NodeJS.ProcessEnv = {};
const files = { pushed: '', s3: '', report: '' };

/** Runs the kstack CLI as a child process, its output passed through; resolves with the exit code and output. */
function kstack(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ code: number; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--enable-source-maps', cli, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.on('error', fail);
    child.on('close', (code) => {
      done({ code: code ?? 1, out });
    });
    child.stdin.end(input ?? '');
  });
}

/** The release's values, as README says: this cluster's own (values-local.yaml, its S3), then push's images. */
const releaseValues = (): string[] => [
  '-f',
  join(webstackChartDir, 'values-local.yaml'),
  '-f',
  files.s3,
  '-f',
  files.pushed,
];

const foreignKube = (): Kube =>
  new Kube({
    kubectl,
    helm,
    kubeArgs: ['--kubeconfig', kubeconfig, '--context', CONTEXT],
    helmArgs: ['--kubeconfig', kubeconfig, '--kube-context', CONTEXT],
    namespace: NAMESPACE,
  });

/** Unhooks kube-router's chains in a node's network namespace: the node then enforces no policy at all. */
async function unhookKubeRouter(netns: string): Promise<void> {
  const rules = (await run('ip', ['netns', 'exec', netns, 'iptables', '-S'])).stdout.split('\n');
  for (const rule of rules.filter((r) => /^-A (INPUT|FORWARD|OUTPUT) .*-j KUBE-ROUTER-/.test(r)))
    // iptables -S prints each rule shell-quoted (comments have spaces): a shell reads it back as written.
    await run('ip', ['netns', 'exec', netns, 'sh', '-c', `iptables -D ${rule.slice(3)}`]);
}

const k = async (args: string[], input?: string): Promise<string> =>
  (await run(kubectl, ['--kubeconfig', kubeconfig, '--context', CONTEXT, ...args], input ? { input } : {})).stdout;

interface PodList {
  items: {
    metadata: { name: string; namespace: string };
    spec: { nodeName?: string; containers: { image: string }[]; initContainers?: { image: string }[] };
    status: { conditions?: { type: string; status: string }[] };
  }[];
}

describe(
  'the stack on a cluster kstack did not make: images from a registry, helm test, prove --context',
  {
    timeout: 40 * 60_000,
  },
  () => {
    const gateway = networkPlanFor(CLUSTER, defaultNodeSettings()).gateway;
    const nodes = networkPlanFor(CLUSTER, defaultNodeSettings()).nodes;
    const stateEnv = { KSTACK_STATE_DIR: baseDir };

    before(async () => {
      ({ kubectl, helm } = await ensureKubectlAndHelm(progress));
      work = mkdtempSync(join(tmpdir(), 'kstack-any-'));
      // A 5-node cluster whose nodes get none of the stack's images: they will pull them.
      const up = await kstack(['cluster', 'up', '--name', CLUSTER, '--no-preload'], stateEnv);
      assert.equal(up.code, 0, 'kstack cluster up --no-preload');
      registry = await RegistryServer.start({ host: gateway, dir: join(work, 'registry') });
      // The nodes trust the registry's CA: added to the running cluster, as a user adds a registry.
      const trust = await kstack(
        ['cluster', 'up', '--name', CLUSTER, '--registry-ca', `${registry.address}=${registry.caPath}`],
        stateEnv,
      );
      assert.equal(trust.code, 0, 'kstack cluster up --registry-ca');
      // From here on the cluster is "another cluster": a kubeconfig with a context, an empty state folder.
      kubeconfig = join(work, 'kubeconfig');
      copyFileSync(clusterLayout(CLUSTER, baseDir).kubeconfig, kubeconfig);
      const current = (await run(kubectl, ['--kubeconfig', kubeconfig, 'config', 'current-context'])).stdout.trim();
      await run(kubectl, ['--kubeconfig', kubeconfig, 'config', 'rename-context', current, CONTEXT]);
      foreignEnv = { KUBECONFIG: kubeconfig, KSTACK_STATE_DIR: join(work, 'empty-state') };
      // This cluster's own values: backups to the S3 server it runs (the user's would name their bucket).
      const creds = localS3Credentials(clusterLayout(CLUSTER, baseDir), false);
      assert.ok(creds, 'the cluster runs a local S3 server');
      files.s3 = join(work, 's3-values.yaml');
      writeFileSync(files.s3, JSON.stringify(localS3Values(gateway), null, 2));
      files.pushed = join(work, 'pushed-values.yaml');
      files.report = join(work, 'prove-report');
      await k(['create', 'namespace', NAMESPACE]);
      // As README says: the namespace admits only Pod Security "restricted" pods (R13 checks it).
      await k(['label', 'namespace', NAMESPACE, 'pod-security.kubernetes.io/enforce=restricted']);
      await k(['apply', '-f', '-'], JSON.stringify(localS3Secret(NAMESPACE, creds)));
    });

    after(async () => {
      await registry?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('pushes the images the chart needs to the registry and prints the values that use them', async () => {
      assert.ok(registry);
      const push = await kstack(
        [
          'images',
          'push',
          '--registry',
          `${registry.address}/kstack`,
          '--username',
          registry.username,
          '--password-stdin',
          '--ca-file',
          registry.caPath,
          '--pull-secret',
          PULL_SECRET,
          '-o',
          files.pushed,
        ],
        stateEnv,
        `${registry.password}\n`,
      );
      assert.equal(push.code, 0, 'kstack images push');
      const text = readFileSync(files.pushed, 'utf8');
      for (const image of ['nginx', 'node', 'mariadb', 'monitoring'])
        assert.ok(text.includes(`${registry.address}/kstack/${image}`), `the values name the pushed ${image} image`);
      await k([
        '-n',
        NAMESPACE,
        'create',
        'secret',
        'docker-registry',
        PULL_SECRET,
        `--docker-server=${registry.address}`,
        `--docker-username=${registry.username}`,
        `--docker-password=${registry.password}`,
      ]);
    });

    it("the nodes' image stores hold none of the pushed images before the install", async () => {
      const pushed = readFileSync(files.pushed, 'utf8');
      const digests = [...pushed.matchAll(/sha256:[a-f0-9]{64}/g)].map((m) => m[0]);
      assert.ok(digests.length >= 4, 'the values name the pushed digests');
      for (const node of nodes) {
        const socket = nodeLayout(clusterLayout(CLUSTER, baseDir), node.name).containerdSocket;
        const ctr = async (args: string[]): Promise<string> =>
          (await run('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args])).stdout;
        const images = await ctr(['images', 'ls', '-q']);
        const content = await ctr(['content', 'ls', '-q']);
        assert.ok(
          !images.includes('nginx') && !images.includes('mariadb'),
          `${node.name} holds a stack image:\n${images}`,
        );
        for (const d of digests) assert.ok(!content.includes(d), `${node.name} holds ${d} already`);
      }
    });

    it('helm install with the printed values: every pod Ready, each node fetched each image it runs', async () => {
      const res = await run(
        helm,
        [
          '--kubeconfig',
          kubeconfig,
          '--kube-context',
          CONTEXT,
          'install',
          RELEASE,
          webstackChartDir,
          '--namespace',
          NAMESPACE,
          ...releaseValues(),
          '--wait',
          '--timeout',
          '12m',
        ],
        { allowFailure: true, timeoutMs: 13 * 60_000 },
      );
      const pods = JSON.parse(await k(['-n', NAMESPACE, 'get', 'pods', '-o', 'json'])) as PodList;
      assert.equal(
        res.code,
        0,
        `helm install: ${res.stderr}\n${await k(['-n', NAMESPACE, 'get', 'pods', '-o', 'wide'])}`,
      );
      const running = pods.items.filter((p) =>
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      assert.ok(running.length >= 8, `release pods Ready: ${running.map((p) => p.metadata.name).join(', ')}`);
      assert.ok(registry);
      const nodeIps = new Map(nodes.map((n) => [n.name, n.ip]));
      const fetched = registry
        .requests()
        .filter((r) => r.kind === 'manifest' && r.method === 'GET' && r.status === 200 && r.digest);
      for (const pod of running) {
        const ip = nodeIps.get(pod.spec.nodeName ?? '') ?? '';
        for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
          const digest = /@(sha256:[a-f0-9]{64})$/.exec(c.image)?.[1];
          assert.ok(digest, `${pod.metadata.name} runs ${c.image}, not pinned by digest`);
          assert.ok(
            fetched.some((r) => r.remoteAddress === ip && r.digest === digest),
            `registry log: node ${pod.spec.nodeName ?? '?'} (${ip}) never fetched ${c.image}`,
          );
        }
      }
    });

    it(
      'helm test: the page through the web Service, ' + 'every member Synced and Primary, the db closed to others',
      async () => {
        const r = await runHelmTest(foreignKube(), RELEASE, NAMESPACE);
        assert.ok(r.ok, r.perTest.map((t) => `${t.name}: ${t.phase}\n${t.log}`).join('\n') + r.output);
        assert.deepEqual(
          r.perTest.map((t) => t.phase),
          r.perTest.map(() => 'Succeeded'),
        );
      },
    );

    it(
      'break: with no policy engine enforcing (kube-router stopped, ' + 'its rules unhooked), helm test fails',
      async () => {
        const state = readState(clusterLayout(CLUSTER, baseDir).stateFile);
        for (const node of state?.nodes ?? []) {
          const e = node.components['kube-router'];
          if (e) await stopDaemon(e.pid, e.binary);
        }
        try {
          for (const node of nodes) await unhookKubeRouter(node.netns);
          const r = await runHelmTest(foreignKube(), RELEASE, NAMESPACE);
          assert.equal(r.ok, false, 'helm test must fail when nothing enforces the policies');
          const closed = r.perTest.find((t) => t.name.endsWith('db-closed'));
          assert.equal(closed?.phase, 'Failed', r.perTest.map((t) => `${t.name}: ${t.phase}\n${t.log}`).join('\n'));
          assert.match(closed.log, /OPEN/);
        } finally {
          // `cluster up` starts the engine again, and its canary proves the policies enforced.
          const restore = await kstack(['cluster', 'up', '--name', CLUSTER], stateEnv);
          assert.equal(restore.code, 0, 'kstack cluster up restores the engine');
        }
        const again = await runHelmTest(foreignKube(), RELEASE, NAMESPACE);
        assert.ok(again.ok, again.perTest.map((t) => `${t.name}: ${t.phase}\n${t.log}`).join('\n'));
      },
    );

    it('kstack up --context deploys the same release and runs kstack’s monitoring from the registry', async () => {
      const up = await kstack(
        [
          'up',
          '--context',
          CONTEXT,
          '-n',
          NAMESPACE,
          '--release',
          RELEASE,
          ...releaseValues(),
          '--with-monitoring',
          '--detach',
        ],
        foreignEnv,
      );
      assert.equal(up.code, 0, 'kstack up --context');
      assert.match(up.out, /prometheus: +http:\/\//);
    });

    it('kstack prove --context: every row PASS, 0 skipped', async () => {
      const prove = await kstack(
        ['prove', '--context', CONTEXT, '-n', NAMESPACE, '--release', RELEASE, '--report', files.report],
        foreignEnv,
      );
      const report = JSON.parse(readFileSync(join(files.report, 'report.json'), 'utf8')) as {
        verdict: string;
        rows: { id: string; status: string; reason: string }[];
      };
      const notPassed = report.rows.filter((r) => r.status !== 'pass');
      assert.deepEqual(
        notPassed.map((r) => `${r.id} ${r.status}: ${r.reason}`),
        [],
        'every row passes on the cluster kstack did not make',
      );
      assert.equal(prove.code, 0);
      assert.equal(report.rows.length, REQUIREMENTS.length);
    });

    it('kstack cluster down leaves nothing of the cluster behind', async () => {
      await run(helm, ['--kubeconfig', kubeconfig, '--kube-context', CONTEXT, 'uninstall', RELEASE, '-n', NAMESPACE], {
        allowFailure: true,
      });
      const down = await kstack(['cluster', 'down', '--name', CLUSTER], stateEnv);
      assert.equal(down.code, 0);
      await controlPlaneDown({ name: CLUSTER, baseDir, progress }).catch(() => undefined);
      await assertNothingLeft(CLUSTER, baseDir);
    });
  },
);
