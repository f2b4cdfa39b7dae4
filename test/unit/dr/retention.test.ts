// Retention decisions (pure): count, age, the newest verified backup, failed runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideRetention, parseRetentionPolicy, type RetentionItem } from '../../../src/dr/retention.js';

const day = (d: number, suffix = '000000'): string => `202611${String(d).padStart(2, '0')}T030000Z-${suffix}`;
const now = new Date('2026-11-30T12:00:00Z');
const complete = (d: number, verifiedOk = false): RetentionItem => ({ id: day(d), complete: true, verifiedOk });
const ids = (xs: { id: string }[]): string[] => xs.map((x) => x.id).sort();

describe('retention', () => {
  it('keeps the newest N and deletes older ones when no age is kept', () => {
    const items = [1, 2, 3, 4, 5].map((d) => complete(d));
    const r = decideRetention(items, { keepLast: 2, keepDays: 0 }, now);
    assert.deepEqual(ids(r.keep), [day(4), day(5)]);
    assert.deepEqual(ids(r.remove), [day(1), day(2), day(3)]);
  });

  it('also keeps everything younger than keepDays', () => {
    const items = [20, 25, 27, 28, 29].map((d) => complete(d));
    const r = decideRetention(items, { keepLast: 1, keepDays: 4 }, now);
    assert.deepEqual(ids(r.keep), [day(27), day(28), day(29)]);
    assert.deepEqual(ids(r.remove), [day(20), day(25)]);
  });

  it('never deletes the newest verified backup, however old', () => {
    const items = [complete(1, true), complete(2, true), complete(3), complete(4)];
    const r = decideRetention(items, { keepLast: 1, keepDays: 0 }, now);
    assert.deepEqual(ids(r.keep), [day(2), day(4)]);
    assert.equal(r.keep.find((k) => k.id === day(2))?.why, 'the newest verified backup');
    assert.deepEqual(ids(r.remove), [day(1), day(3)]);
  });

  it('a failed verification does not count as verified', () => {
    const r = decideRetention([complete(1, false), complete(2)], { keepLast: 1, keepDays: 0 }, now);
    assert.deepEqual(ids(r.remove), [day(1)]);
  });

  it('removes failed runs (no manifest) only after the grace period', () => {
    const items: RetentionItem[] = [
      complete(28),
      { id: day(28, 'aaaaaa'), complete: false, verifiedOk: false },
      { id: '20261130T110000Z-bbbbbb', complete: false, verifiedOk: false },
    ];
    const r = decideRetention(items, { keepLast: 5, keepDays: 0, incompleteGraceHours: 24 }, now);
    assert.deepEqual(ids(r.remove), [day(28, 'aaaaaa')]);
    assert.deepEqual(ids(r.keep), [day(28), '20261130T110000Z-bbbbbb']);
  });

  it('refuses a policy that would delete every backup, and bad env values by name', () => {
    assert.throws(() => decideRetention([], { keepLast: 0, keepDays: 1 }, now), /keepLast must be ≥ 1/);
    assert.throws(
      () => parseRetentionPolicy({ KSTACK_DR_RETENTION_COUNT: '0' }),
      /KSTACK_DR_RETENTION_COUNT: must be a whole number ≥ 1/,
    );
    assert.throws(
      () => parseRetentionPolicy({ KSTACK_DR_RETENTION_MAX_AGE_DAYS: 'two' }),
      /KSTACK_DR_RETENTION_MAX_AGE_DAYS/,
    );
    assert.deepEqual(parseRetentionPolicy({}), { keepLast: 7, keepDays: 14, incompleteGraceHours: 24 });
  });
});
