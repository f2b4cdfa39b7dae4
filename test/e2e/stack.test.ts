// `kstack up` end to end on the local cluster: the webstack chart with the local images, every workload
// ready, each nginx replica serving a page with its own pod IP and serving-host, the custom nginx
// configuration in force, the page reachable from this host. First file of the e2e group 'stack'; the
// group's last file (prove) checks that `down --all` leaves nothing behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureKubectlAndHelm } from '../../src/setup/kubectl-layer.js';
import { stackUp, type StackUpResult } from '../../src/stack/up.js';
import { main } from '../../src/cli/main.js';
import { run } from '../../src/util/exec.js';
import { createProgress } from '../../src/util/progress.js';
import { eventually } from '../helpers/cluster.js';
import { e2eCluster, leaveStack } from '../helpers/e2e-cluster.js';

const own = e2eCluster('stack');
const { name: CLUSTER, baseDir } = own;
const progress = createProgress();
let result: StackUpResult;
let kubectlBin = '';

const kubectl = async (args: string[]): Promise<string> =>
  (await run(kubectlBin, [...result.kubeArgs, '-n', result.namespace, ...args])).stdout;

interface Pod {
  metadata: { name: string; labels: Record<string, string> };
  status: { podIP: string; phase: string };
}

describe('kstack up on the local cluster', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    kubectlBin = (await ensureKubectlAndHelm(progress)).kubectl;
    result = await stackUp({
      namespace: 'webstack',
      release: 'web',
      valuesFiles: [],
      clusterName: CLUSTER,
      baseDir,
      timeoutMs: 10 * 60_000,
      progress,
    });
  });
  after(() => leaveStack(own, result, progress));

  it('runs every workload of the release: web 3/3, db 3/3, podwatch 2/2', () => {
    const byComponent = Object.fromEntries(result.workloads.map((w) => [w.component, `${w.ready}/${w.desired}`]));
    assert.deepEqual(byComponent, { db: '3/3', podwatch: '2/2', web: '3/3' });
  });

  it('has each nginx replica serve its own pod IP and Host- + the last 5 characters of its name', async () => {
    const pods = (
      JSON.parse(await kubectl(['get', 'pods', '-l', 'app.kubernetes.io/component=web', '-o', 'json'])) as {
        items: Pod[];
      }
    ).items;
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      const page = await kubectl([
        'exec',
        pod.metadata.name,
        '-c',
        'nginx',
        '--',
        'bash',
        '-c',
        'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET / HTTP/1.0\\r\\nHost: web\\r\\n\\r\\n" >&3 && cat <&3',
      ]);
      assert.match(page, /^HTTP\/1\.1 200 OK/);
      assert.ok(page.includes(pod.status.podIP), `${pod.metadata.name}'s page shows its IP ${pod.status.podIP}`);
      assert.ok(
        page.includes(`Host-${pod.metadata.name.slice(-5)}`),
        `${pod.metadata.name}'s page shows Host-${pod.metadata.name.slice(-5)}`,
      );
    }
  });

  it(
    'gives URLs that outlive kstack: load-balancer addresses, ' + 'and `kstack status -o json` prints them again',
    async () => {
      assert.equal(result.page.kind, 'load-balancer', result.page.url);
      assert.match(result.page.url, /^http:\/\/10\.77\.\d+\.2\d\d\/$/);
      assert.equal(result.podwatch?.kind, 'load-balancer');
      const lines: string[] = [];
      const sink = { write: (t: string) => lines.push(t) > 0 };
      // The CLI finds local clusters under KSTACK_STATE_DIR, as a user's shell would point it.
      const saved = process.env.KSTACK_STATE_DIR;
      process.env.KSTACK_STATE_DIR = baseDir;
      let code: number;
      try {
        code = await main(['status', '-o', 'json', '--name', CLUSTER], { out: sink, err: sink });
      } finally {
        if (saved === undefined) delete process.env.KSTACK_STATE_DIR;
        else process.env.KSTACK_STATE_DIR = saved;
      }
      assert.equal(code, 0, lines.join(''));
      const status = JSON.parse(lines.join('')) as {
        pageUrl?: string;
        podwatchUrl?: string;
        healthUrl?: string;
        prometheusUrl?: string;
        alertmanagerUrl?: string;
      };
      assert.equal(status.pageUrl, result.page.url);
      assert.equal(status.podwatchUrl, result.podwatch.url);
      // The local monitoring, through the same load balancer: Prometheus and Alertmanager answer their
      // readiness, and the health page is served.
      assert.equal(status.prometheusUrl, result.monitoring?.prometheusUrl);
      assert.equal(status.alertmanagerUrl, result.monitoring?.alertmanagerUrl);
      assert.equal(status.healthUrl, result.monitoring?.healthUrl);
      for (const url of [status.prometheusUrl, status.alertmanagerUrl])
        assert.equal((await fetch(`${url ?? ''}-/ready`)).status, 200, `${url ?? 'a monitoring URL'} is ready`);
      assert.match(await (await fetch(status.healthUrl ?? '')).text(), /kstack health/);
    },
  );

  it('balances reloads of the page URL over every web replica (each reload a new connection)', async () => {
    const pods = (
      JSON.parse(await kubectl(['get', 'pods', '-l', 'app.kubernetes.io/component=web', '-o', 'json'])) as {
        items: Pod[];
      }
    ).items;
    const wanted = new Set(pods.map((p) => `Host-${p.metadata.name.slice(-5)}`));
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < wanted.size; i++) {
      const body = await (await fetch(result.page.url, { headers: { connection: 'close' } })).text();
      const host = /Host-[a-z0-9]{5}/.exec(body)?.[0];
      if (host) seen.add(host);
    }
    assert.deepEqual([...seen].sort(), [...wanted].sort(), 'every replica answered within 60 reloads');
  });

  it(
    'serves the page to this host through the load balancer, ' + "with the custom nginx configuration's headers",
    async () => {
      const res = await fetch(result.page.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      const body = await res.text();
      assert.match(body, /Host-[a-z0-9]{5}/);
      const info = (await (await fetch(new URL('/api/info', result.page.url))).json()) as {
        pod: { ip: string };
        servingHost: string;
      };
      assert.match(info.servingHost, /^Host-[a-z0-9]{5}$/);
      assert.match(info.pod.ip, /^10\.244\.\d+\.\d+$/);
    },
  );

  it('shows live data read from the Galera cluster on the page (the web→db path)', async () => {
    interface Info {
      data: { source: string; ok: boolean; message?: string; values?: Record<string, unknown> };
    }
    const url = new URL('/api/info', result.page.url);
    const first = await eventually(
      'webinfo to read from the database',
      async () => {
        const info = (await (await fetch(url)).json()) as Info;
        return info.data.ok ? info : undefined;
      },
      120_000,
    );
    assert.equal(first.data.source, 'mariadb');
    const text = JSON.stringify(first.data.values);
    assert.match(text, /web-webstack-db-\d/, 'names the Galera member that answered');
    const second = (await (await fetch(url)).json()) as Info;
    assert.notDeepEqual(second.data.values, first.data.values, 'the visit counter moves with each request');
  });

  it("serves podwatch's view and health to this host", async () => {
    assert.ok(result.podwatch, 'podwatch Service forwarded');
    const health = await fetch(new URL('/healthz', result.podwatch.url));
    assert.equal(health.status, 200);
  });
});
