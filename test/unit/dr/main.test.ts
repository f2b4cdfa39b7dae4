// The entry point's pure parts: flags, the key file, the metrics text.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadKey, main, parseFlags, renderMetrics } from '../../../src/dr/main.js';
import type { CatalogEntry } from '../../../src/dr/catalog.js';
import type { Manifest } from '../../../src/dr/manifest.js';

describe('dr entry point', () => {
  it('reads flags as --name=value and --name value, refusing unknown ones', () => {
    assert.deepEqual(parseFlags(['--backup=X', '--to-time', '2026-11-25 18:00:00'], ['backup', 'to-time']), {
      backup: 'X',
      'to-time': '2026-11-25 18:00:00',
    });
    assert.deepEqual(parseFlags(['--backup-id', 'Y'], ['backup-id']), { backup: 'Y' });
    assert.throws(() => parseFlags(['--nope'], ['backup']), /unknown argument '--nope'; allowed: --backup/);
    assert.throws(() => parseFlags(['--backup'], ['backup']), /--backup needs a value/);
  });

  it(
    "the restore Job's entry point replays the archive also without " +
      'a target (as far as it goes); plain main.js refuses PITR flags',
    async () => {
      const seen: Record<string, string>[] = [];
      // A fake PITR hook (pure: records its flags); the restore itself then stops at the missing storage settings.
      const hooks = {
        pitr: (flags: Record<string, string>) => {
          seen.push(flags);
          return (): Promise<void> => Promise.resolve();
        },
      };
      assert.equal(await main(['restore'], {}, hooks), 1);
      assert.equal(await main(['restore', '--to-time=2026-11-25T18:00:00Z'], {}), 1);
      assert.deepEqual(seen, [{}], 'the hook was asked for a plan with no target');
    },
  );

  it('loads the key from KSTACK_DR_KEY_FILE and names the variable when it cannot', () => {
    const k = loadKey({ KSTACK_DR_KEY_FILE: '/k' }, () => Buffer.alloc(32, 1));
    assert.match(k.id, /^[0-9a-f]{16}$/);
    assert.throws(() => loadKey({}), /KSTACK_DR_KEY_FILE: not set/);
    assert.throws(
      () =>
        loadKey({ KSTACK_DR_KEY_FILE: '/k' }, () => {
          throw new Error('ENOENT');
        }),
      /KSTACK_DR_KEY_FILE: cannot read \/k/,
    );
  });

  it('renders metrics from the newest complete and the newest verified backup', () => {
    const m = {
      finishedAt: '2026-11-25T18:00:10.000Z',
      durationMs: 10_000,
      object: { bytes: 123 },
    } as unknown as Manifest;
    const entries = [
      {
        id: 'a',
        manifest: m,
        verification: { ok: true, verifiedAt: '2026-11-25T18:05:00.000Z' },
        keys: [],
        modified: undefined,
      },
      { id: 'b', manifest: undefined, verification: undefined, keys: [], modified: undefined },
    ] as unknown as CatalogEntry[];
    const text = renderMetrics(entries);
    assert.match(text, /^kstack_backup_last_success_timestamp_seconds 1795629610$/m);
    assert.match(text, /^kstack_backup_verified_timestamp_seconds 1795629900$/m);
    assert.match(text, /^kstack_backup_last_size_bytes 123$/m);
    assert.match(text, /^kstack_backup_count 1$/m);
    assert.doesNotMatch(renderMetrics([]), /^kstack_backup_last_size_bytes \d/m);
  });
});
