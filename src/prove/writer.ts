// The acknowledging writer of the drills: from inside a web pod (its webinfo container, which has Node.js,
// the mariadb driver and the application account, and which the NetworkPolicies let reach the db), a write
// starts every `intervalMs` through the db Service, each on a new connection with a 2 s timeout and no
// retry, and each attempt is reported once: acknowledged (the server committed it) or failed. Pure parts
// (the script, parsing the log, judging it against what was read back) are unit-tested; startWriter is
// the I/O edge. Timestamps come from the pod's clock, so outages are measured where the writes happen.
import type { Kube } from '../kube/kube.js';
import type { CommandLog } from '../kube/kube.js';

export interface WriteAttempt {
  seq: number;
  ok: boolean;
  /** ms since the epoch on the writer's clock: when the commit was acknowledged, or the attempt failed. */
  at: number;
  error?: string;
}

export interface WriterOptions {
  /** Table the writes go to, in the application database (created if missing): [a-z0-9_]+. */
  table: string;
  /** One write starts every intervalMs. */
  intervalMs: number;
  /** Connect and query timeout of each write. */
  timeoutMs: number;
  /**
   * A string every INSERT carries (column `note`), for R13 to look for in captured traffic: [A-Za-z0-9_-]+.
   * Without it the table and the INSERTs are as before.
   */
  marker?: string;
}

const MARKER = /^[A-Za-z0-9_-]{1,64}$/;

const TABLE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The script run with `node -e` in the webinfo container. It reads WEBINFO_DB_* (the chart sets them; the
 * password from WEBINFO_DB_PASSWORD or WEBINFO_DB_PASSWORD_FILE) and finds the mariadb driver in the image's
 * kstack app (KSTACK_APP_DIR names another package.json, for tests on this host). It
 * stops when its stdin closes, after the writes in flight have ended. Lines: "ack SEQ AT", "fail SEQ AT
 * REASON", then "done".
 */
export function writerScript(o: WriterOptions): string {
  if (!TABLE_NAME.test(o.table)) throw new Error(`writer table '${o.table}': use lowercase letters, digits and _`);
  if (!Number.isInteger(o.intervalMs) || o.intervalMs < 10)
    throw new Error(`writer intervalMs ${o.intervalMs}: a whole number ≥ 10`);
  if (o.marker !== undefined && !MARKER.test(o.marker))
    throw new Error(`writer marker '${o.marker}': use 1-64 letters, digits, _ and -`);
  // The marker goes in as a bound parameter, so it crosses the wire inside the query text only with TLS off.
  const insert =
    o.marker === undefined
      ? `'INSERT INTO ${o.table} (seq, at) VALUES (?, NOW(3))', [n]`
      : `'INSERT INTO ${o.table} (seq, at, note) VALUES (?, NOW(3), ?)', [n, '${o.marker}']`;
  const columns = `seq INT PRIMARY KEY, at DATETIME(3) NOT NULL${o.marker === undefined ? '' : ', note VARCHAR(64)'}`;
  return `
const mariadb = require('node:module').createRequire(process.env.KSTACK_APP_DIR ||\
 '/opt/kstack/package.json')('mariadb');
const e = process.env;
const password = e.WEBINFO_DB_PASSWORD || (e.WEBINFO_DB_PASSWORD_FILE ?\
 require('node:fs').readFileSync(e.WEBINFO_DB_PASSWORD_FILE, 'utf8').trim() : '');
// TLS as webinfo uses it: the db's CA (WEBINFO_DB_TLS_CA), the server's name verified.
const ssl = e.WEBINFO_DB_TLS_CA ? { ca: require('node:fs').readFileSync(e.WEBINFO_DB_TLS_CA, 'utf8'),\
 rejectUnauthorized: true } : undefined;
const cfg = { host: e.WEBINFO_DB_HOST, port: Number(e.WEBINFO_DB_PORT || 3306), user: e.WEBINFO_DB_USER, password,\
 database: e.WEBINFO_DB_DATABASE, connectTimeout: ${o.timeoutMs}, socketTimeout: ${o.timeoutMs}, ssl };
const out = (s) => process.stdout.write(s + '\\n');
let seq = 0, inFlight = 0, stopping = false;
async function once(n) {
  let c;
  inFlight++;
  try {
    c = await mariadb.createConnection(cfg);
    await c.query(${insert});
    out('ack ' + n + ' ' + Date.now());
  } catch (err) {
    out('fail ' + n + ' ' + Date.now() + ' ' + String(err && (err.code || err.message) || err).replace(/\\s+/g,\
 '_').slice(0, 80));
  } finally {
    if (c) c.destroy();
    inFlight--;
  }
}
(async () => {
  const c = await mariadb.createConnection(cfg);
  await c.query('CREATE TABLE IF NOT EXISTS ${o.table} (${columns})');
  await c.end();
  out('ready');
  const timer = setInterval(() => { if (!stopping) void once(++seq); }, ${o.intervalMs});
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => {
    stopping = true;
    clearInterval(timer);
    const wait = setInterval(() => { if (inFlight === 0) { clearInterval(wait); out('done'); process.exit(0); } }, 50);
  });
})().catch((err) => { out('error ' + String(err && err.message || err).replace(/\\s+/g, ' ')); process.exit(1); });
`;
}

export interface WriterLog {
  attempts: WriteAttempt[];
  /** The writer set up its table and started. */
  ready: boolean;
  /** It ended on its own terms (stdin closed, writes in flight finished). */
  done: boolean;
  /** A setup error, or what the exec printed on stderr. */
  error?: string;
}

/** Pure: the writer's output. */
export function parseWriterLog(stdout: string, stderr = ''): WriterLog {
  const attempts: WriteAttempt[] = [];
  let ready = false;
  let done = false;
  let error: string | undefined;
  for (const line of stdout.split('\n')) {
    const [kind, a, b, ...rest] = line.trim().split(' ');
    if (kind === 'ack' || kind === 'fail') {
      const seq = Number(a);
      const at = Number(b);
      if (Number.isInteger(seq) && Number.isFinite(at))
        attempts.push({ seq, ok: kind === 'ack', at, ...(kind === 'fail' ? { error: rest.join(' ') } : {}) });
    } else if (kind === 'ready') ready = true;
    else if (kind === 'done') done = true;
    else if (kind === 'error') error = [a, b, ...rest].join(' ');
  }
  if (error === undefined && stderr.trim()) error = stderr.trim().split('\n').slice(-2).join(' ');
  return { attempts: attempts.sort((x, y) => x.seq - y.seq), ready, done, ...(error !== undefined ? { error } : {}) };
}

export interface WriteJudgement {
  attempted: number;
  acknowledged: number;
  failed: number;
  /** Acknowledged writes that are not in what was read back: must be none. */
  lost: number[];
  /** Rows read back that no attempt acknowledged (a write that failed on the client but committed): allowed. */
  unacknowledgedPresent: number;
  /** The longest time without an acknowledged write, from the first attempt to the last (ms). */
  longestOutageMs: number;
  /** When that outage started and ended (writer clock). */
  outage?: { from: number; to: number };
}

/**
 * Pure: the attempts against the rows read back. An outage is a gap between consecutive acknowledged
 * writes (or from the first attempt to the first acknowledgement, or from the last acknowledgement to the
 * last attempt): the time the application could not write.
 */
export function judgeWrites(attempts: readonly WriteAttempt[], readBack: ReadonlySet<number>): WriteJudgement {
  const acked = attempts.filter((a) => a.ok).sort((x, y) => x.at - y.at);
  const times = attempts.map((a) => a.at);
  const first = times.length ? Math.min(...times) : 0;
  const last = times.length ? Math.max(...times) : 0;
  const marks = [first, ...acked.map((a) => a.at), last];
  let longest = 0;
  let outage: { from: number; to: number } | undefined;
  for (let i = 1; i < marks.length; i++) {
    const gap = (marks[i] ?? 0) - (marks[i - 1] ?? 0);
    if (gap > longest) {
      longest = gap;
      outage = { from: marks[i - 1] ?? 0, to: marks[i] ?? 0 };
    }
  }
  const ackedSeqs = new Set(acked.map((a) => a.seq));
  return {
    attempted: attempts.length,
    acknowledged: acked.length,
    failed: attempts.length - acked.length,
    lost: acked.filter((a) => !readBack.has(a.seq)).map((a) => a.seq),
    unacknowledgedPresent: [...readBack].filter((s) => !ackedSeqs.has(s)).length,
    longestOutageMs: longest,
    ...(outage ? { outage } : {}),
  };
}

export interface RunningWriter {
  /** What the writer has reported so far (it keeps writing). */
  peek(): WriterLog;
  /** Stops the writes and returns everything the writer reported. */
  stop(): Promise<WriterLog>;
}

/**
 * Starts the writer in `pod`'s webinfo container and waits (up to 60 s) until it has created its table and
 * started; throws with the writer's error otherwise.
 */
export async function startWriter(kube: Kube, pod: string, o: WriterOptions, log?: CommandLog): Promise<RunningWriter> {
  const stream = kube.execStream(pod, 'webinfo', ['node', '-e', writerScript(o)], log);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const seen = stream.peek();
    if (/^ready$/m.test(seen)) break;
    if (/^error /m.test(seen) || stream.exited() || Date.now() > deadline) {
      const res = await stream.finish();
      const parsed = parseWriterLog(res.stdout, res.stderr);
      throw new Error(
        `the writer in ${pod} did not ` +
          `start: ${parsed.error ?? (Date.now() > deadline ? 'no answer within 60 s' : `exit ${res.code}`)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    peek: () => parseWriterLog(stream.peek()),
    stop: async () => {
      const res = await stream.finish();
      return parseWriterLog(res.stdout, res.stderr);
    },
  };
}
