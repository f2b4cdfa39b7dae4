// The db tests' judgement: a member's status, the db-status verdict, and db-closed's probes with its control.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  closedVerdict,
  dbVerdict,
  judgeMember,
  outcomeOf,
  podOfMember,
  type ClosedProbe,
} from '../../../src/charttest/db.js';

const member = (i: number): string => `ws-webstack-db-${i}.ws-webstack-db-headless.shop.svc.cluster.local`;
const rows = (status: string, state: string, size: string): { Variable_name: string; Value: string }[] => [
  { Variable_name: 'wsrep_cluster_status', Value: status },
  { Variable_name: 'wsrep_local_state_comment', Value: state },
  { Variable_name: 'wsrep_cluster_size', Value: size },
];

describe('charttest db-status', () => {
  it('passes a Primary, Synced member that sees every member and answered from its own pod', () => {
    const j = judgeMember(member(1), { host: 'ws-webstack-db-1', status: rows('Primary', 'Synced', '3') }, 'galera', 3);
    assert.deepEqual(j, {
      member: member(1),
      ok: true,
      line: 'wsrep_cluster_status=Primary wsrep_local_state_comment=Synced wsrep_cluster_size=3',
    });
    assert.equal(podOfMember(member(1)), 'ws-webstack-db-1');
  });

  it('names every way a member is wrong', () => {
    const j = judgeMember(
      member(0),
      { host: 'ws-webstack-db-0', status: rows('non-Primary', 'Donor/Desynced', '1') },
      'galera',
      3,
    );
    assert.equal(j.ok, false);
    assert.match(j.line, /not in the Primary component, not Synced, cluster size is not 3$/);
    const missing = judgeMember(member(0), { host: 'ws-webstack-db-0', status: [] }, 'galera', 3);
    assert.match(missing.line, /wsrep_cluster_status=\(none\)/);
    const other = judgeMember(
      member(0),
      { host: 'ws-webstack-db-2', status: rows('Primary', 'Synced', '3') },
      'galera',
      3,
    );
    assert.equal(other.line, "answered by @@hostname 'ws-webstack-db-2', not by pod ws-webstack-db-0");
    assert.equal(
      judgeMember(member(0), { error: 'connect ETIMEDOUT' }, 'galera', 3).line,
      'no answer: connect ETIMEDOUT',
    );
  });

  it('standalone: answering from its pod is enough', () => {
    assert.equal(judgeMember(member(0), { host: 'ws-webstack-db-0', status: [] }, 'standalone', 1).ok, true);
  });

  it('the verdict needs every member good', () => {
    const good = (i: number) =>
      judgeMember(member(i), { host: `ws-webstack-db-${i}`, status: rows('Primary', 'Synced', '3') }, 'galera', 3);
    assert.deepEqual(dbVerdict([good(0), good(1), good(2)], 3), {
      ok: true,
      summary: 'all 3 member(s) Primary, Synced, size 3',
    });
    const bad = dbVerdict([good(0), good(1), { member: member(2), ok: false, line: 'no answer: x' }], 3);
    assert.deepEqual(bad, { ok: false, summary: '2 of 3 member(s) good; ws-webstack-db-2: no answer: x' });
    assert.equal(dbVerdict([good(0)], 3).ok, false);
    const none = dbVerdict(
      [0, 1, 2].map((i) => ({
        member: member(i),
        ok: false,
        line: `no answer: connect ECONNREFUSED 10.0.0.${i}:3306`,
      })),
      3,
    );
    assert.match(
      none.summary,
      /\(no member let this pod in: mariadbd is down, or the NetworkPolicy engine has not admitted/,
    );
  });
});

describe('charttest db-closed', () => {
  const probe = (i: number, port: number, outcome: ClosedProbe['outcome']): ClosedProbe => ({
    member: member(i),
    address: outcome === 'unresolved' ? null : `10.244.3.${i}`,
    port,
    outcome,
    detail: '',
  });
  const closed = [
    probe(0, 3306, 'timeout'),
    probe(0, 4567, 'timeout'),
    probe(1, 3306, 'refused'),
    probe(1, 4567, 'timeout'),
  ];
  const control = { target: 'ws-webstack-web.shop.svc.cluster.local:80', outcome: 'connected' as const, detail: '' };

  it('passes when every member port is closed and the control connects', () => {
    assert.deepEqual(closedVerdict(closed, control), {
      ok: true,
      summary: '2 member(s) closed on 3306, 4567; control ws-webstack-web.shop.svc.cluster.local:80 open',
    });
  });

  it('fails when a port is open: the engine is not enforcing', () => {
    const v = closedVerdict([...closed, probe(2, 3306, 'connected')], control);
    assert.equal(v.ok, false);
    assert.match(v.summary, /reachable .*: ws-webstack-db-2:3306 \(is a NetworkPolicy engine enforcing\?\)/);
  });

  it('cannot pass on a broken network: the control must connect and every member must resolve', () => {
    const v = closedVerdict(closed, { ...control, outcome: 'timeout', detail: 'no answer' });
    assert.equal(v.ok, false);
    assert.match(v.summary, /^cannot judge: the positive control .* did not connect \(timeout: no answer\)/);
    const u = closedVerdict([...closed, probe(2, 3306, 'unresolved')], control);
    assert.match(u.summary, /^cannot judge: ws-webstack-db-2 did not resolve/);
    assert.equal(closedVerdict([], control).ok, false);
  });

  it('maps socket errors to outcomes', () => {
    assert.equal(outcomeOf('ECONNREFUSED'), 'refused');
    assert.equal(outcomeOf('EHOSTUNREACH'), 'unreachable');
    assert.equal(outcomeOf('ETIMEDOUT'), 'timeout');
    assert.equal(outcomeOf(undefined), 'error');
  });
});
