// The webinfo companion on loopback: its HTTP contract, and the data source plug that the database work
// uses (a data source that throws or hangs still yields an answer the page can show).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../../../src/webinfo/config.js';
import {
  dataSourceFromEnv,
  dataSourceNames,
  noDataSource,
  readWithin,
  registerDataSource,
  type DataSource,
} from '../../../src/webinfo/data-source.js';
import { parsePageFacts, podIdentityFromEnv } from '../../../src/webinfo/info.js';
import { startWebinfo, type RunningWebinfo } from '../../../src/webinfo/server.js';

describe('webinfo: settings and the data source plug', () => {
  it('reads its port and folders from the environment and names a bad port', () => {
    assert.deepEqual(configFromEnv({}), {
      host: '127.0.0.1',
      port: 8081,
      pageDir: '/var/lib/kstack/page',
      region: null,
    });
    assert.deepEqual(
      configFromEnv({ WEBINFO_PORT: '9000', WEBINFO_HOST: '::1', WEBINFO_PAGE_DIR: '/p', WEBINFO_REGION: 'east' }),
      { host: '::1', port: 9000, pageDir: '/p', region: 'east' },
    );
    assert.throws(() => configFromEnv({ WEBINFO_PORT: '80a' }), /WEBINFO_PORT='80a' is not a port number/);
    assert.throws(() => configFromEnv({ WEBINFO_PORT: '70000' }), /WEBINFO_PORT='70000'/);
  });

  it('reads the region: empty is none, a name that is not a DNS label is refused naming the variable', () => {
    assert.equal(configFromEnv({ WEBINFO_REGION: '  ' }).region, null);
    assert.equal(configFromEnv({ WEBINFO_REGION: 'eu-west-2' }).region, 'eu-west-2');
    for (const bad of ['East', 'east_1', '-east', 'east-', 'a'.repeat(64)]) {
      assert.throws(() => configFromEnv({ WEBINFO_REGION: bad }), {
        message: new RegExp(`^WEBINFO_REGION='${bad}' is not a region name: use a DNS label`),
      });
    }
  });

  it('reads the pod identity; missing variables read "unknown"', () => {
    assert.deepEqual(podIdentityFromEnv({ POD_NAME: 'p', POD_IP: '10.0.0.1' }), {
      name: 'p',
      ip: '10.0.0.1',
      namespace: 'unknown',
      node: 'unknown',
    });
  });

  it('parses pod.json and never throws on a bad one', () => {
    assert.deepEqual(parsePageFacts('{"servingHost":"Host-abcde","renderedAt":"t"}'), {
      servingHost: 'Host-abcde',
      renderedAt: 't',
    });
    assert.deepEqual(parsePageFacts('{"servingHost":5}'), { servingHost: null, renderedAt: null });
    assert.deepEqual(parsePageFacts('not json'), { servingHost: null, renderedAt: null });
  });

  it('picks the data source by name; an unknown name lists the known ones', () => {
    assert.equal(dataSourceFromEnv({}), noDataSource);
    assert.throws(
      () => dataSourceFromEnv({ WEBINFO_DATA_SOURCE: 'oracle' }),
      /WEBINFO_DATA_SOURCE='oracle' is not a known data source; use one of: .*none/,
    );
    registerDataSource('test-fixed', () => ({
      name: 'test-fixed',
      read: () => Promise.resolve({ source: 'test-fixed', configured: true, ok: true, message: 'fixed' }),
    }));
    assert.ok(dataSourceNames().includes('test-fixed'));
    assert.equal(dataSourceFromEnv({ WEBINFO_DATA_SOURCE: 'test-fixed' }).name, 'test-fixed');
    assert.throws(() => {
      registerDataSource('Bad Name', () => noDataSource);
    }, /lowercase/);
  });

  it('turns a throwing or hanging data source into a report', async () => {
    const throwing: DataSource = { name: 'boom', read: () => Promise.reject(new Error('connection refused')) };
    assert.deepEqual(await readWithin(throwing, 1000), {
      source: 'boom',
      configured: true,
      ok: false,
      message: 'the boom data source failed: connection refused',
    });
    let aborted = false;
    const hanging: DataSource = {
      name: 'slow',
      read: (signal) =>
        new Promise(() => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
        }),
    };
    const report = await readWithin(hanging, 50);
    assert.equal(report.ok, false);
    assert.match(report.message, /did not answer within 50 ms/);
    assert.equal(aborted, true, 'the hanging read was told to stop');
  });
});

describe('webinfo: HTTP on loopback', () => {
  let dir: string;
  let server: RunningWebinfo;
  let base: string;
  let closed = false;
  const source: DataSource = {
    name: 'test-counter',
    read: () =>
      Promise.resolve({
        source: 'test-counter',
        configured: true,
        ok: true,
        message: 'read 3 rows',
        values: { rows: 3 },
      }),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kstack-webinfo-'));
    writeFileSync(join(dir, 'pod.json'), '{"servingHost":"Host-zz9zz","renderedAt":"2026-01-01T00:00:00Z"}');
    server = await startWebinfo({
      host: '127.0.0.1',
      port: 0,
      pageDir: dir,
      pod: { name: 'web-zz9zz', namespace: 'ns', ip: '10.1.1.1', node: 'n' },
      dataSource: source,
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /api/info answers the pod, the serving-host and the data report, not cached', async () => {
    const res = await fetch(`${base}/api/info`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const info = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(info.pod, { name: 'web-zz9zz', namespace: 'ns', ip: '10.1.1.1', node: 'n' });
    assert.equal(info.servingHost, 'Host-zz9zz');
    assert.equal(info.region, null, 'no region set: null, not absent');
    assert.deepEqual(info.data, {
      source: 'test-counter',
      configured: true,
      ok: true,
      message: 'read 3 rows',
      values: { rows: 3 },
    });
    assert.ok(!Number.isNaN(Date.parse(String(info.time))));
  });

  it('answers health, HEAD, 404 and 405 in JSON', async () => {
    assert.deepEqual(await (await fetch(`${base}/api/healthz`)).json(), { ok: true });
    const head = await fetch(`${base}/api/info`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const missing = await fetch(`${base}/other`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /no such endpoint: \/other/);
    const post = await fetch(`${base}/api/info`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('names the region it was given', async () => {
    const east = await startWebinfo({
      host: '127.0.0.1',
      port: 0,
      pageDir: dir,
      pod: podIdentityFromEnv({}),
      region: 'east',
      dataSource: noDataSource,
    });
    try {
      const info = (await (await fetch(`http://127.0.0.1:${east.port}/api/info`)).json()) as Record<string, unknown>;
      assert.equal(info.region, 'east');
      assert.deepEqual(Object.keys(info), ['pod', 'region', 'servingHost', 'renderedAt', 'time', 'data']);
    } finally {
      await east.close();
    }
  });

  it('close() stops listening and closes the data source', async () => {
    const other = await startWebinfo({
      host: '127.0.0.1',
      port: 0,
      pageDir: dir,
      pod: podIdentityFromEnv({}),
      dataSource: source,
    });
    await other.close();
    assert.equal(closed, true);
    await assert.rejects(fetch(`http://127.0.0.1:${other.port}/api/healthz`));
  });
});
