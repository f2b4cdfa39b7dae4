// R11's judgements: whether the placement can lose a node at all, and each drill phase against the
// strict outcomes and the objectives. The facts are built the way the row builds them: writes judged by
// judgeWrites from writer attempts, page load summed up by summarizePageLoad.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  judgePhase,
  judgePlacementForNodeLoss,
  NODE_LOSS_OBJECTIVES,
  type PhaseResult,
  type PodPlace,
} from '../../../src/prove/requirements/r11-node-loss.js';
import { summarizePageLoad, type PageAttempt } from '../../../src/prove/page-load.js';
import { judgeWrites, type WriteAttempt } from '../../../src/prove/writer.js';

const at = (pod: string, node: string): PodPlace => ({ pod, node });

describe('R11: placement for the loss of a node', () => {
  const spread = [at('demo-db-0', 'db-1'), at('demo-db-1', 'db-2'), at('demo-db-2', 'db-3')];
  const web = [at('demo-web-6f9c-abcde', 'web-1'), at('demo-web-6f9c-fghij', 'web-2')];

  it('three members on three nodes and web on two nodes: no problem', () => {
    assert.deepEqual(judgePlacementForNodeLoss(spread, web), []);
  });

  it('two of three members on one node: a problem naming both pods and the node', () => {
    const problems = judgePlacementForNodeLoss(
      [at('demo-db-0', 'db-1'), at('demo-db-1', 'db-2'), at('demo-db-2', 'db-1')],
      web,
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /demo-db-0, demo-db-2/);
    assert.match(problems[0] ?? '', /node db-1/);
    assert.match(problems[0] ?? '', /2 of 3 members/);
    assert.doesNotMatch(problems[0] ?? '', /demo-db-1/);
  });

  it('every web replica on one node: a problem naming the node', () => {
    const problems = judgePlacementForNodeLoss(spread, [
      at('demo-web-6f9c-abcde', 'web-1'),
      at('demo-web-6f9c-fghij', 'web-1'),
    ]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /every web replica runs on web-1/);
    assert.match(judgePlacementForNodeLoss(spread, [])[0] ?? '', /no node/);
  });

  it('five members with two on one node can lose it: the other three keep the majority', () => {
    const five = [
      at('demo-db-0', 'n1'),
      at('demo-db-1', 'n1'),
      at('demo-db-2', 'n2'),
      at('demo-db-3', 'n3'),
      at('demo-db-4', 'n4'),
    ];
    assert.deepEqual(judgePlacementForNodeLoss(five, web), []);
    // Three of five on one node is a majority lost.
    const three = five.map((m, i) => (i === 2 ? at(m.pod, 'n1') : m));
    assert.match(judgePlacementForNodeLoss(three, web)[0] ?? '', /3 of 5 members/);
  });

  it('both problems at once are both named', () => {
    const problems = judgePlacementForNodeLoss(
      [at('demo-db-0', 'x'), at('demo-db-1', 'x'), at('demo-db-2', 'y')],
      [at('demo-web-6f9c-abcde', 'x')],
    );
    assert.equal(problems.length, 2);
  });
});

/** A write every 200 ms from t=0 for `seconds`, acknowledged except inside [from, to). */
function writes(seconds: number, gap?: { from: number; to: number }): WriteAttempt[] {
  return Array.from({ length: seconds * 5 }, (_, i) => {
    const t = i * 200;
    const ok = !gap || t < gap.from || t >= gap.to;
    return { seq: i + 1, at: t, ok, ...(ok ? {} : { error: 'connect ETIMEDOUT' }) };
  });
}

const acknowledged = (attempts: readonly WriteAttempt[]): Set<number> =>
  new Set(attempts.filter((a) => a.ok).map((a) => a.seq));

/** `n` page requests, the first `failures` of them failed by timeout, the rest served by two replicas. */
function pages(n: number, failures = 0): PageAttempt[] {
  return Array.from({ length: n }, (_, i) =>
    i < failures
      ? { at: i, ok: false, error: 'no answer within 2000 ms' }
      : { at: i, ok: true, host: i % 2 ? 'Host-abcde' : 'Host-fghij' },
  );
}

/** A phase that meets everything: writes stopped 2 s, 0.5% page failures, pods back in 20 s, nothing lost. */
function goodPhase(): PhaseResult {
  const attempts = writes(60, { from: 10_000, to: 12_000 });
  return {
    role: 'db',
    node: 'db-1',
    page: summarizePageLoad(pages(1000, 5)),
    writes: judgeWrites(attempts, acknowledged(attempts)),
    lost: 0,
    recoverySeconds: 20,
  };
}

describe('R11: judging a phase', () => {
  it('everything within the objectives and nothing lost: no problem', () => {
    const p = goodPhase();
    assert.equal(p.writes.longestOutageMs, 2200);
    assert.equal(p.page.failedPercent, 0.5);
    assert.deepEqual(judgePhase(p, NODE_LOSS_OBJECTIVES), []);
  });

  it('a lost acknowledged write is a problem even when everything else is fine', () => {
    const attempts = writes(60);
    const readBack = acknowledged(attempts);
    readBack.delete(42);
    const writesJudged = judgeWrites(attempts, readBack);
    assert.deepEqual(writesJudged.lost, [42]);
    const problems = judgePhase({ ...goodPhase(), writes: writesJudged, lost: 1 }, NODE_LOSS_OBJECTIVES);
    assert.deepEqual(problems, ['with db node db-1 frozen: 1 acknowledged write lost']);
    assert.match(judgePhase({ ...goodPhase(), lost: 3 }, NODE_LOSS_OBJECTIVES)[0] ?? '', /3 acknowledged writes lost/);
  });

  it('no acknowledged write at all: the drill proves nothing', () => {
    const attempts = writes(60).map((a) => ({ ...a, ok: false, error: 'Access denied' }));
    const problems = judgePhase(
      { ...goodPhase(), writes: judgeWrites(attempts, new Set()) },
      { ...NODE_LOSS_OBJECTIVES, writeOutageSeconds: 1000 },
    );
    assert.deepEqual(problems, ['with db node db-1 frozen: no write was acknowledged, the drill proves nothing']);
    // No attempt at all is the same.
    assert.match(
      judgePhase({ ...goodPhase(), writes: judgeWrites([], new Set()) }, NODE_LOSS_OBJECTIVES)[0] ?? '',
      /no write was acknowledged/,
    );
  });

  it('no page request succeeded: a problem', () => {
    const problems = judgePhase(
      { ...goodPhase(), page: summarizePageLoad(pages(10, 10)) },
      { ...NODE_LOSS_OBJECTIVES, failedPagePercent: 100 },
    );
    assert.deepEqual(problems, ['with db node db-1 frozen: no page request succeeded']);
  });

  it('pods never back: a problem, whatever the objectives', () => {
    const { recoverySeconds: _, ...rest } = goodPhase();
    const problems = judgePhase(rest, NODE_LOSS_OBJECTIVES);
    assert.deepEqual(problems, ['with db node db-1 frozen: its pods were not back within 5 min of starting it']);
  });

  it('each objective exceeded is its own problem, naming the measured value and the objective', () => {
    const longOutage = writes(60, { from: 10_000, to: 22_000 });
    const p: PhaseResult = {
      ...goodPhase(),
      role: 'web',
      node: 'web-2',
      writes: judgeWrites(longOutage, acknowledged(longOutage)),
      page: summarizePageLoad(pages(200, 5)),
      recoverySeconds: 75.25,
    };
    const problems = judgePhase(p, NODE_LOSS_OBJECTIVES);
    assert.deepEqual(problems, [
      'with web node web-2 frozen: its pods were back 75.3 s after it returned, objective 60 s',
      'with web node web-2 frozen: writes stopped for 12.2 s, objective 10 s',
      'with web node web-2 frozen: 5 of 200 page requests failed (2.5%, mostly no answer within 2000 ms), objective 1%',
    ]);
  });

  it('one objective exceeded alone is the only problem', () => {
    const o = NODE_LOSS_OBJECTIVES;
    assert.deepEqual(judgePhase({ ...goodPhase(), recoverySeconds: 61 }, o), [
      'with db node db-1 frozen: its pods were back 61.0 s after it returned, objective 60 s',
    ]);
    const outage = writes(60, { from: 10_000, to: 21_000 });
    assert.deepEqual(judgePhase({ ...goodPhase(), writes: judgeWrites(outage, acknowledged(outage)) }, o), [
      'with db node db-1 frozen: writes stopped for 11.2 s, objective 10 s',
    ]);
    assert.deepEqual(judgePhase({ ...goodPhase(), page: summarizePageLoad(pages(100, 2)) }, o), [
      'with db node db-1 frozen: 2 of 100 page requests failed (2%, mostly no answer within 2000 ms), objective 1%',
    ]);
  });

  it('the objectives are the limits, not beyond them', () => {
    const exactly = writes(60, { from: 10_000, to: 19_800 });
    const p: PhaseResult = {
      ...goodPhase(),
      writes: judgeWrites(exactly, acknowledged(exactly)),
      page: summarizePageLoad(pages(100, 1)),
      recoverySeconds: 60,
    };
    assert.equal(p.writes.longestOutageMs, 10_000);
    assert.equal(p.page.failedPercent, 1);
    assert.deepEqual(judgePhase(p, NODE_LOSS_OBJECTIVES), []);
  });
});
