// The staged data dir initialisation (src/galera/datadir.ts) on a real temporary folder: a stand-in
// install function writes what mariadb-install-db would, or fails half-way.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAGING_DIR, initialiseStaged, isInitialised, moveOrder, removeStaging } from '../../../src/galera/datadir.js';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-datadir-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Writes what a finished mariadb-install-db leaves (the parts that matter here). */
function fakeInstall(into: string): void {
  mkdirSync(join(into, 'mysql'), { recursive: true });
  writeFileSync(join(into, 'mysql', 'user.frm'), 'system');
  mkdirSync(join(into, 'performance_schema'));
  writeFileSync(join(into, 'ibdata1'), 'innodb');
}

describe('data dir initialisation (staged)', () => {
  it('moves the system database last, so an interrupted move leaves an uninitialised dir', () => {
    assert.deepEqual(moveOrder(['mysql', 'sys', 'ibdata1', 'aria_log.00000001']), [
      'aria_log.00000001',
      'ibdata1',
      'sys',
      'mysql',
    ]);
    assert.deepEqual(moveOrder(['ibdata1']), ['ibdata1']);
  });

  it(
    'puts a finished install into the data dir, keeping what was there, and leaves no staging folder',
    withDir(async (dir) => {
      mkdirSync(join(dir, 'lost+found'));
      await initialiseStaged(dir, (staging) => {
        fakeInstall(staging);
        return Promise.resolve();
      });
      assert.ok(isInitialised(dir));
      assert.deepEqual(readdirSync(dir).sort(), ['ibdata1', 'lost+found', 'mysql', 'performance_schema']);
      assert.equal(readFileSync(join(dir, 'mysql', 'user.frm'), 'utf8'), 'system');
    }),
  );

  it(
    'leaves the data dir uninitialised and clean when the install fails half-way',
    withDir(async (dir) => {
      await assert.rejects(
        initialiseStaged(dir, (staging) => {
          mkdirSync(join(staging, 'mysql'), { recursive: true });
          return Promise.reject(new Error('mariadb-install-db exited with 1'));
        }),
        /exited with 1/,
      );
      assert.ok(!isInitialised(dir));
      assert.deepEqual(readdirSync(dir), []);
    }),
  );

  it(
    'refuses an install that wrote no system database, naming it',
    withDir(async (dir) => {
      await assert.rejects(
        initialiseStaged(dir, (staging) => {
          mkdirSync(staging);
          writeFileSync(join(staging, 'ibdata1'), 'x');
          return Promise.resolve();
        }),
        /wrote no 'mysql' system database/,
      );
      assert.ok(!isInitialised(dir));
      assert.deepEqual(readdirSync(dir), []);
    }),
  );

  it(
    'replaces leftovers of an earlier attempt, and a stale staging folder',
    withDir(async (dir) => {
      mkdirSync(join(dir, STAGING_DIR, 'mysql'), { recursive: true });
      mkdirSync(join(dir, 'performance_schema'));
      writeFileSync(join(dir, 'performance_schema', 'stale'), 'old');
      writeFileSync(join(dir, 'ibdata1'), 'half');
      await initialiseStaged(dir, (staging) => {
        assert.ok(!existsSync(staging), 'the install starts from nothing');
        fakeInstall(staging);
        return Promise.resolve();
      });
      assert.equal(readFileSync(join(dir, 'ibdata1'), 'utf8'), 'innodb');
      assert.deepEqual(readdirSync(join(dir, 'performance_schema')), []);
      assert.ok(!existsSync(join(dir, STAGING_DIR)));
    }),
  );

  it(
    'never runs over an initialised data dir',
    withDir(async (dir) => {
      fakeInstall(dir);
      await assert.rejects(
        initialiseStaged(dir, () => Promise.reject(new Error('the install must not run'))),
        /already initialised/,
      );
      assert.equal(readFileSync(join(dir, 'mysql', 'user.frm'), 'utf8'), 'system');
    }),
  );

  it(
    'removes a staging folder, and nothing else',
    withDir((dir) => {
      fakeInstall(dir);
      mkdirSync(join(dir, STAGING_DIR));
      removeStaging(dir);
      removeStaging(dir);
      assert.deepEqual(readdirSync(dir).sort(), ['ibdata1', 'mysql', 'performance_schema']);
      return Promise.resolve();
    }),
  );
});
