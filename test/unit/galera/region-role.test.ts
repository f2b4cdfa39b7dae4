// The fence's decision: when a member of a region takes writes, from its role and what the peer says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseRegionPeer,
  parseRegionState,
  regionVerdict,
  writeRegionPeerSql,
  type PeerRegionView,
} from '../../../src/galera/region-role.js';

const primaryAt = (epoch: number): PeerRegionView => ({
  kind: 'answered',
  state: { role: 'primary', epoch, reason: 'failover' },
});

describe('regionVerdict: the fence of a primary that comes back', () => {
  it('a standby or a fenced region never takes writes, whatever the peer says', () => {
    for (const role of ['standby', 'fenced'] as const) {
      for (const peer of [{ kind: 'unknown' }, { kind: 'unreachable', error: 'x' }, primaryAt(1)] as const) {
        const v = regionVerdict({ role, epoch: 3 }, true, peer);
        assert.equal(v.readOnly, true, `${role} with peer ${peer.kind}`);
        assert.equal(v.record, undefined);
      }
    }
  });

  it('a primary with no peer on record takes writes (one region, or before region up recorded the peer)', () => {
    assert.equal(regionVerdict({ role: 'primary', epoch: 1 }, false, { kind: 'unknown' }).readOnly, false);
  });

  it('a primary with a peer on record waits for one answer before it opens writes', () => {
    const v = regionVerdict({ role: 'primary', epoch: 1 }, true, { kind: 'unknown' });
    assert.equal(v.readOnly, true);
    assert.match(v.reason, /asking the peer/);
  });

  it('a newer primary on the other side fences this region, recorded for every member', () => {
    const v = regionVerdict({ role: 'primary', epoch: 1 }, true, primaryAt(2));
    assert.equal(v.readOnly, true);
    assert.deepEqual(
      { role: v.record?.role, epoch: v.record?.epoch },
      { role: 'fenced', epoch: 1 },
      'the fence keeps its own epoch',
    );
    assert.match(v.record?.reason ?? '', /epoch 2, newer than 1/);
  });

  it('an older primary on the other side does not fence the newer one', () => {
    const v = regionVerdict({ role: 'primary', epoch: 2 }, true, primaryAt(1));
    assert.equal(v.readOnly, false);
    assert.equal(v.record, undefined);
  });

  it('two primaries at one epoch both stay shut and nothing is recorded', () => {
    const v = regionVerdict({ role: 'primary', epoch: 2 }, true, primaryAt(2));
    assert.equal(v.readOnly, true);
    assert.equal(v.record, undefined);
    assert.match(v.reason, /both regions are primary at epoch 2/);
  });

  it('a peer that is standby, without a role, or unreachable leaves a primary writable', () => {
    const peers: PeerRegionView[] = [
      { kind: 'answered', state: { role: 'standby', epoch: 5, reason: '' } },
      { kind: 'answered', state: undefined },
      { kind: 'unreachable', error: 'connect ETIMEDOUT' },
    ];
    for (const peer of peers) assert.equal(regionVerdict({ role: 'primary', epoch: 1 }, true, peer).readOnly, false);
  });

  it('just after a start, an unreachable peer keeps a primary read-only; later it does not', () => {
    const down: PeerRegionView = { kind: 'unreachable', error: 'connect ETIMEDOUT' };
    const starting = regionVerdict({ role: 'primary', epoch: 1 }, true, down, true);
    assert.equal(starting.readOnly, true);
    assert.match(starting.reason, /just started/);
    assert.equal(regionVerdict({ role: 'primary', epoch: 1 }, true, down, false).readOnly, false);
    assert.equal(
      regionVerdict({ role: 'primary', epoch: 1 }, true, { kind: 'answered', state: undefined }, true).readOnly,
      false,
      'an answer ends the wait',
    );
  });

  it('a stored row with an unknown role reads as fenced', () => {
    assert.equal(parseRegionState({ role: 'leader', epoch: 4, reason: '' })?.role, 'fenced');
  });
});

describe('the peer row', () => {
  it('round-trips a valid row and refuses one that is not a host and port', () => {
    assert.deepEqual(parseRegionPeer({ region: 'west', host: '10.77.3.240', port: '3306' }), {
      region: 'west',
      host: '10.77.3.240',
      port: 3306,
    });
    assert.equal(parseRegionPeer({ region: 'west', host: 'a b', port: 3306 }), undefined);
    assert.equal(parseRegionPeer({ region: 'west', host: '10.0.0.1', port: 70000 }), undefined);
    assert.equal(parseRegionPeer(undefined), undefined);
  });

  it('writes quoted values and refuses an injected host', () => {
    assert.match(
      writeRegionPeerSql({ region: "we'st", host: '10.0.0.1', port: 3306 }),
      /VALUES \(1, 'we\\'st', '10\.0\.0\.1', 3306\)/,
    );
    assert.throws(() => writeRegionPeerSql({ region: 'w', host: "x'; DROP", port: 1 }), /peer\.host/);
    assert.throws(() => writeRegionPeerSql({ region: 'w', host: 'x', port: 0 }), /peer\.port/);
  });
});
