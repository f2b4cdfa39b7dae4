// The kill-everything drill for RPO, on loopback (test/helpers/rpo-drill.ts): a writer commits a row every
// 100 ms to a member with binary logging, the real archiver process (30 s rounds) ships binlogs to a real
// MinIO; then mariadbd, its agent and the archiver are SIGKILLed and the member's data is treated as lost.
// Recovery is the backup plus the archive: every recovered row is an acknowledged write, there are no
// holes, and RPO = last acknowledged write − last recovered write is printed (the target is ≤ 60 s;
// timings are reported, not asserted; `npm run bench:dr` reports it too).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MARIADBD } from '../../helpers/galera-loopback.js';
import { startPitrRig, type PitrRig } from '../../helpers/pitr-rig.js';
import { runRpoDrill } from '../../helpers/rpo-drill.js';
import { requireFiles } from '../../helpers/require-tools.js';

describe('dr: RPO of a kill-everything drill with the binlog archiver', { timeout: 400_000 }, () => {
  requireFiles([MARIADBD]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-rpo-'));
  chmodSync(dir, 0o755);
  let rig: PitrRig | undefined;

  before(async () => {
    rig = await startPitrRig(dir, 'rpo');
  });
  after(async () => {
    await rig?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recovers a hole-free prefix of the acknowledged writes; RPO printed', async () => {
    assert.ok(rig);
    const d = await runRpoDrill(rig, join(dir, 'src', 'secrets'), { writeSeconds: 45, intervalSeconds: 30 });
    assert.match(
      d.metrics,
      /kstack_binlog_archived_files_total\{stream="src-0"\} [1-9]/,
      `the archiver shipped files:\n${d.metrics}\n${d.archiverLog}`,
    );
    assert.match(d.metrics, /kstack_binlog_archive_lag_seconds\{stream="src-0"\} \d/);
    const ids = d.recoveredIds;
    assert.ok(ids.length > 0, 'rows were recovered from the archive');
    assert.deepEqual(
      ids,
      Array.from({ length: ids.length }, (_, i) => i + 1),
      'a hole-free prefix of the writes',
    );
    assert.ok(ids.length <= d.lastAcked, 'nothing that was not acknowledged');
    process.stdout.write(
      `# RPO drill: ${d.lastAcked} writes acknowledged, ${ids.length} recovered from backup + archive; ` +
        `RPO ${(d.rpoMs / 1000).toFixed(1)} s (target ≤ 60 s, archiver rounds every 30 s)\n`,
    );
  });
});
