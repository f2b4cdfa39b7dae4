// The other SST method the chart offers: mariabackup (the donor stays writable while it streams a hot
// backup through socat). Three real members join by it, and a member whose data dir was wiped while a
// writer runs comes back by a full mariabackup SST with every acknowledged write.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, MARIADBD, Writer } from '../../../src/galera/loopback.js';

const ready = existsSync(MARIADBD) && existsSync('/usr/bin/mariadb-backup') && existsSync('/usr/bin/socat');

describe('galera agent with mariabackup SST (real mariadbd, mariadb-backup, socat)', { skip: ready ? false : 'mariadb-backup/socat not installed; run ./kstack setup', timeout: 600_000 }, () => {
  let c: LoopbackCluster;
  before(async () => {
    c = await LoopbackCluster.create({ baseDir: mkdtempSync(join(tmpdir(), 'kstack-galera-mb-')), size: 3, sstMethod: 'mariabackup' });
  });
  after(async () => {
    await c.destroy();
  });

  it('members join a new cluster, and a wiped member rejoins, by mariabackup SST without losing a write', async () => {
    c.startAll();
    await c.waitReady();
    const w = new Writer(c, ['db-0', 'db-1']);
    await w.prepare();
    w.start();
    await sleep(1000);
    await c.stop('db-2');
    c.wipe('db-2');
    const errFile = join(c.runDir('db-2'), 'mysqld.err');
    const mark = existsSync(errFile) ? readFileSync(errFile, 'utf8').length : 0;
    c.start('db-2');
    await c.waitReady();
    await w.stop();
    const missing = await w.missingOn('db-2');
    assert.ok(w.acked.length > 0);
    assert.deepEqual(missing.slice(0, 20), [], `db-2 lost ${missing.length} of ${w.acked.length} acknowledged writes`);
    // Everything db-2 logged since its data was wiped (more than one start if the kubelet-like restart kicked in).
    assert.match(readFileSync(errFile, 'utf8').slice(mark), /mariabackup SST completed on joiner/, `db-2 log:\n${c.tail('db-2', 40)}`);
  });
});
