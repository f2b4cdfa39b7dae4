// Asks the other region which role it holds: the one network call of the fence (region-role.ts decides).
// The agent logs in to the peer's replication entry point with the replication account, which can read the
// region state and nothing else, over TLS checked against the CA both regions share. The entry point is a
// load-balancer address that no certificate names, so the chain is checked and the name is not, as the
// replica does (src/region/replication.ts).
import { readFileSync } from 'node:fs';
import * as mariadb from 'mariadb';
import { messageOf } from '../util/errors.js';
import {
  READ_REGION_STATE_SQL,
  isMissingRegionTable,
  parseRegionState,
  type PeerRegionView,
  type RegionPeer,
} from './region-role.js';

export interface PeerLogin {
  user: string;
  password: string;
  /** The shared CA (a PEM file); undefined: the peer is asked without TLS (only loopback tests do). */
  caFile: string | undefined;
}

/**
 * TLS that checks the peer's chain against the CA and not the name. The connector hands `ssl` to
 * tls.connect whole; its type leaves out checkServerIdentity, which tls.connect takes.
 */
function checkedChain(caFile: string): mariadb.ConnectionConfig['ssl'] {
  return {
    ca: readFileSync(caFile, 'utf8'),
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
  } as mariadb.ConnectionConfig['ssl'];
}

/** Bounded: a peer that does not answer within `timeoutMs` is unreachable, and the agent's poll goes on. */
export async function askPeerRegion(peer: RegionPeer, login: PeerLogin, timeoutMs = 2000): Promise<PeerRegionView> {
  let conn: mariadb.Connection | undefined;
  try {
    conn = await mariadb.createConnection({
      host: peer.host,
      port: peer.port,
      user: login.user,
      password: login.password,
      connectTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      ...(login.caFile ? { ssl: checkedChain(login.caFile) } : {}),
    });
    try {
      const rows: { role: unknown; epoch: unknown; reason: unknown }[] = await conn.query(READ_REGION_STATE_SQL);
      return { kind: 'answered', state: parseRegionState(rows[0]) };
    } catch (err) {
      // A peer that never recorded a role (no table yet) answered all the same: it claims nothing.
      if (isMissingRegionTable(err)) return { kind: 'answered', state: undefined };
      throw err;
    }
  } catch (err) {
    return { kind: 'unreachable', error: messageOf(err) };
  } finally {
    await conn?.end().catch(() => undefined);
  }
}
