// The advertised-address wiring against real mariadbd + galera-4 on loopback: members are configured by
// a host name (as in a pod, where it is the headless Service's name), and the agent is told to advertise
// an interface's address instead (GALERA_SECONDARY_INTERFACE / "secondaryInterface"; here `lo`, standing
// in for Multus' net1). Galera must then run on that address: every member's wsrep_incoming_addresses
// lists 127.0.0.1, not the name, and each agent publishes it in /state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackCluster, MARIADBD } from '../../helpers/galera-loopback.js';
import { GALERA_LIBRARY, requireFiles } from '../../helpers/require-tools.js';

const ALL = ['db-0', 'db-1', 'db-2'];

describe(
  "galera agent: replication on the configured interface's address (real mariadbd + galera-4)",
  { timeout: 600_000 },
  () => {
    requireFiles([MARIADBD, GALERA_LIBRARY]);
    let c: LoopbackCluster;
    before(async () => {
      c = await LoopbackCluster.create({
        baseDir: mkdtempSync(join(tmpdir(), 'kstack-galera-addr-')),
        size: 3,
        host: 'localhost',
        baseConfig: { secondaryInterface: 'lo' },
      });
    });
    after(async () => {
      await c.destroy();
    });

    it(
      'every member advertises the interface address: ' +
        'wsrep_incoming_addresses and /state show 127.0.0.1, never the configured name',
      async () => {
        c.startAll();
        await c.waitReady(ALL);
        const expected = ALL.map((n) => `127.0.0.1:${c.member(n).sqlPort}`).sort();
        const seen = new Set<string>();
        for (const m of ALL) {
          // Each member's list comes from the view changes it saw (a joiner may not list a member that joined
          // in the same view); every entry must be an interface address, and together they name every member.
          const conn = await c.connect(m, 'root');
          let addrs: string[];
          try {
            const rows: { Value: string }[] = await conn.query("SHOW GLOBAL STATUS LIKE 'wsrep_incoming_addresses'");
            addrs = (rows[0]?.Value ?? '').split(',').filter(Boolean);
          } finally {
            await conn.end();
          }
          for (const a of addrs) {
            assert.ok(expected.includes(a), `${m} lists ${a}, not one of the advertised ${expected.join(', ')}`);
            seen.add(a);
          }
          const state = (await (await fetch(`http://127.0.0.1:${c.member(m).agentPort}/state`)).json()) as {
            address?: string;
          };
          assert.equal(state.address, '127.0.0.1');
          const cnf = readFileSync(join(c.runDir(m), 'my.cnf'), 'utf8');
          assert.match(cnf, new RegExp(`^wsrep_node_address=127\\.0\\.0\\.1:${c.member(m).galeraPort}$`, 'm'));
          assert.doesNotMatch(
            cnf.replace(/^wsrep_cluster_address=.*$/m, ''),
            /localhost:/,
            'no member address is the configured name (the cluster address falls back to names only for silent peers)',
          );
        }
        assert.deepEqual(
          [...seen].sort(),
          expected,
          "the members' lists together name every member by its interface address",
        );
      },
    );
  },
);
