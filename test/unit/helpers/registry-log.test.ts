// The test registry's log reader (test/helpers/registry.ts): distribution 2.8's JSON lines, as it wrote them
// during a push, become requests with the client's address, what was asked for and the answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegistryLog, parseRegistryPath } from '../../helpers/registry.js';

const D = `sha256:${'ab'.repeat(32)}`;
const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({ 'go.version': 'go1.19.8', level: 'info', time: '2026-12-07T04:15:41Z', ...fields });
const request = (method: string, uri: string, remote = '10.77.3.12:41234'): Record<string, unknown> => ({
  'http.request.host': '10.77.3.1:5000',
  'http.request.method': method,
  'http.request.remoteaddr': remote,
  'http.request.uri': uri,
  'http.request.useragent': 'containerd/1.6',
});

describe('test registry log', () => {
  it('reads each answered request, with a refused login as a 401, and skips the rest', () => {
    const log = [
      line({ msg: 'listening on 10.77.3.1:5000, tls' }),
      line({
        ...request('GET', '/v2/'),
        level: 'warning',
        msg:
          'error authorizing context: basic authentication ' +
          'challenge for realm "r": invalid authorization credential',
      }),
      line({ ...request('GET', '/v2/'), msg: 'authorized request' }),
      line({ ...request('GET', '/v2/'), msg: 'response completed', 'http.response.status': 200 }),
      line({
        ...request('GET', `/v2/team/nginx/manifests/${D}`),
        msg: 'response completed',
        'http.response.status': 200,
      }),
      line({
        ...request('HEAD', `/v2/team/nginx/blobs/${D}`, '127.0.0.1:5555'),
        level: 'error',
        msg: 'response completed with error',
        'http.response.status': 404,
      }),
      'not json',
      '{"broken": ',
    ].join('\n');
    assert.deepEqual(parseRegistryLog(log), [
      { remoteAddress: '10.77.3.12', method: 'GET', path: '/v2/', status: 401, kind: 'base' },
      { remoteAddress: '10.77.3.12', method: 'GET', path: '/v2/', status: 200, kind: 'base' },
      {
        remoteAddress: '10.77.3.12',
        method: 'GET',
        path: `/v2/team/nginx/manifests/${D}`,
        status: 200,
        kind: 'manifest',
        repository: 'team/nginx',
        reference: D,
        digest: D,
      },
      {
        remoteAddress: '127.0.0.1',
        method: 'HEAD',
        path: `/v2/team/nginx/blobs/${D}`,
        status: 404,
        kind: 'blob',
        repository: 'team/nginx',
        digest: D,
      },
    ]);
  });

  it('tells manifests by tag from manifests by digest, blobs from uploads', () => {
    assert.deepEqual(parseRegistryPath('/v2/a/b/manifests/0.1.0-abc'), {
      kind: 'manifest',
      repository: 'a/b',
      reference: '0.1.0-abc',
    });
    assert.deepEqual(parseRegistryPath('/v2/a/blobs/uploads/1234?digest=x'), { kind: 'upload', repository: 'a' });
    assert.deepEqual(parseRegistryPath('/v2/a/tags/list'), { kind: 'tags', repository: 'a' });
    assert.deepEqual(parseRegistryPath('/v2/_catalog'), { kind: 'catalog' });
    assert.deepEqual(parseRegistryPath('/metrics'), { kind: 'other' });
  });
});
