import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DnsLookupError, TtlResolver, type ResolvedRecord } from '../../../src/region/resolver.js';

/** A fake server and clock: answers from `records`, counts what it was asked. */
function rig(records: () => ResolvedRecord[] | Error) {
  let clock = 0;
  const asked: string[] = [];
  const resolver = new TtlResolver({
    server: '127.0.0.1:25353',
    now: () => clock,
    query: (name) => {
      asked.push(name);
      const r = records();
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    },
  });
  return {
    resolver,
    asked,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const dnsError = (code: string): Error => Object.assign(new Error(code), { code });

describe('TtlResolver', () => {
  it('asks once per TTL: none before it expires, one at the first call after', async () => {
    let address = '10.77.1.200';
    const r = rig(() => [{ address, ttl: 2 }]);
    const first = await r.resolver.resolve('www.webstack.test');
    assert.deepEqual(first.addresses, ['10.77.1.200']);
    assert.equal(first.fromCache, false);
    assert.equal(first.expiresAtMs, 2000);
    address = '10.77.2.200';
    r.advance(1999);
    const cached = await r.resolver.resolve('WWW.webstack.test.');
    assert.deepEqual(cached.addresses, ['10.77.1.200']);
    assert.equal(cached.fromCache, true);
    assert.equal(r.resolver.queries, 1);
    r.advance(1);
    assert.equal(await r.resolver.address('www.webstack.test'), '10.77.2.200');
    assert.equal(r.resolver.queries, 2);
    assert.deepEqual(r.asked, ['www.webstack.test', 'www.webstack.test']);
  });

  it('keeps an answer for its smallest TTL', async () => {
    const r = rig(() => [
      { address: '10.0.0.1', ttl: 5 },
      { address: '10.0.0.2', ttl: 1 },
    ]);
    const a = await r.resolver.resolve('www.webstack.test');
    assert.equal(a.ttlSeconds, 1);
    r.advance(1000);
    await r.resolver.resolve('www.webstack.test');
    assert.equal(r.resolver.queries, 2);
  });

  it('does not cache TTL 0, nor failures', async () => {
    let answer: ResolvedRecord[] | Error = [{ address: '10.0.0.1', ttl: 0 }];
    const r = rig(() => answer);
    await r.resolver.resolve('www.webstack.test');
    await r.resolver.resolve('www.webstack.test');
    assert.equal(r.resolver.queries, 2);
    answer = dnsError('ENOTFOUND');
    await assert.rejects(r.resolver.resolve('www.webstack.test'));
    await assert.rejects(r.resolver.resolve('www.webstack.test'));
    assert.equal(r.resolver.queries, 4);
  });

  it('shares one query between concurrent calls', async () => {
    const r = rig(() => [{ address: '10.0.0.1', ttl: 2 }]);
    const all = await Promise.all([1, 2, 3].map(() => r.resolver.resolve('www.webstack.test')));
    assert.equal(r.resolver.queries, 1);
    assert.deepEqual(
      all.map((a) => a.addresses[0]),
      ['10.0.0.1', '10.0.0.1', '10.0.0.1'],
    );
  });

  it('names what the server said when there is no address', async () => {
    const expected: [string, string, RegExp][] = [
      ['ENOTFOUND', 'NXDOMAIN', /^www\.webstack\.test via 127\.0\.0\.1:25353: no such name \(NXDOMAIN\)$/],
      ['ENODATA', 'NODATA', /no IPv4 address/],
      ['EREFUSED', 'REFUSED', /REFUSED/],
      ['ESERVFAIL', 'SERVFAIL', /SERVFAIL/],
      ['ETIMEOUT', 'TIMEOUT', /no answer from the server \(ETIMEOUT\)/],
      ['ECONNREFUSED', 'TIMEOUT', /ECONNREFUSED/],
      ['EBADRESP', 'OTHER', /EBADRESP/],
    ];
    for (const [code, failure, message] of expected) {
      const r = rig(() => dnsError(code));
      await assert.rejects(r.resolver.resolve('www.webstack.test'), (err: unknown) => {
        assert.ok(err instanceof DnsLookupError);
        assert.equal(err.failure, failure);
        assert.equal(err.lookupName, 'www.webstack.test');
        assert.match(err.message, message);
        return true;
      });
    }
    const empty = rig(() => []);
    await assert.rejects(empty.resolver.resolve('www.webstack.test'), /empty answer/);
  });

  it('takes an IPv4 server with a port only, and DNS names only', async () => {
    for (const server of ['127.0.0.1', 'localhost:53', '[::1]:53', '127.0.0.1:0', '127.0.0.1:70000']) {
      assert.throws(() => new TtlResolver({ server }), /^Error: server/, server);
    }
    const r = rig(() => []);
    await assert.rejects(r.resolver.resolve('bad name'), /^Error: name: /);
    assert.equal(r.resolver.queries, 0);
  });
});
