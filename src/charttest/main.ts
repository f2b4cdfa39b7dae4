// Entry point of the chart's `helm test` pods (charts/webstack/templates/tests/), in the webinfo image:
//   node dist/src/charttest/main.js page | db-status | db-closed
// Settings come from the environment (settings.ts). Each check prints one line (PASS/FAIL/RETRY/INFO),
// the last line is the verdict; the exit status is 0 when the test passed, 1 when it failed, 2 on bad
// settings. Everything here is I/O; the judging is in page.ts and db.ts.
import { lookup } from 'node:dns/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mariadb from 'mariadb';
import { messageOf } from '../util/errors.js';
import {
  closedVerdict,
  dbVerdict,
  judgeMember,
  outcomeOf,
  podOfMember,
  STATUS_VARIABLES,
  type ClosedProbe,
  type ControlProbe,
  type MemberAnswer,
  type MemberJudgement,
  type ProbeOutcome,
  type StatusRow,
} from './db.js';
import { judgeInfo, judgePage, pageVerdict, type Judged } from './page.js';
import {
  closedSettings,
  dbSettings,
  pageSettings,
  type ClosedSettings,
  type DbSettings,
  type PageSettings,
} from './settings.js';

export const TESTS = ['page', 'db-status', 'db-closed'] as const;
export type TestName = (typeof TESTS)[number];

type Print = (line: string) => void;

const MAX_BODY = 1 << 20;

/** One GET on a new connection (so the Service's balancing picks a pod each time); status null = no answer. */
function httpGet(url: string, timeoutMs: number): Promise<{ status: number | null; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => {
        resolve({ status: null, body: messageOf(err) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      resolve({ status: null, body: messageOf(err) });
    });
    req.end();
  });
}

function line(j: Judged, what: string, n: number): string {
  if (j.kind === 'good')
    return (
      `PASS ${what} #${n}: ${j.served.servingHost} = ${j.served.podName} ` +
      `(${j.served.podIP})${j.note ? `; ${j.note}` : ''}`
    );
  return `${j.kind === 'bad' ? 'FAIL' : 'RETRY'} ${what} #${n}: ${j.reason}`;
}

/** A test's outcome: passed or not, and the one-line reason. */
export interface Outcome {
  ok: boolean;
  summary: string;
}

export async function runPage(s: PageSettings, print: Print): Promise<Outcome> {
  const deadline = Date.now() + s.timeoutMs;
  const form = { format: s.servingHostFormat, suffixLength: s.suffixLength };
  print(
    `INFO page: ${s.webUrl}/ and ${s.webinfo ? '/api/info' : '(webinfo off: no /api/info)'}, ${s.requests} ` +
      `good answers each within ${s.timeoutMs / 1000}s; serving-host form '${s.servingHostFormat}'`,
  );
  const page: Judged[] = [];
  const info: Judged[] | null = s.webinfo ? [] : null;
  const goodCount = (js: readonly Judged[]): number => js.filter((j) => j.kind === 'good').length;
  const bad = (): boolean => [...page, ...(info ?? [])].some((j) => j.kind === 'bad');
  let timedOut = false;
  while (!bad()) {
    const pageDone = goodCount(page) >= s.requests;
    const infoDone = info === null || goodCount(info) >= s.requests;
    if (pageDone && infoDone) break;
    const left = deadline - Date.now();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    let retried = false;
    if (!pageDone) {
      const r = await httpGet(`${s.webUrl}/`, Math.min(s.connectTimeoutMs * 2, left));
      const j = judgePage(r.status, r.body, form);
      page.push(j);
      print(line(j, 'GET /', page.length));
      retried ||= j.kind === 'retry';
    }
    if (info && !infoDone && Date.now() < deadline) {
      const r = await httpGet(`${s.webUrl}/api/info`, Math.min(s.connectTimeoutMs * 2, deadline - Date.now()));
      const j = judgeInfo(r.status, r.body, form, s.expectData);
      info.push(j);
      print(line(j, 'GET /api/info', info.length));
      retried ||= j.kind === 'retry';
    }
    if (retried) await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
  const v = pageVerdict(page, info, s.requests, timedOut);
  return { ok: v.ok, summary: v.summary };
}

/** One member's @@hostname and status, on a connection of its own, bounded by connectTimeoutMs. */
async function askMember(member: string, s: DbSettings): Promise<MemberAnswer> {
  let conn: mariadb.Connection | undefined;
  try {
    conn = await mariadb.createConnection({
      host: member,
      port: s.port,
      user: s.user,
      password: s.password,
      ...(s.tlsCa ? { ssl: { ca: s.tlsCa, rejectUnauthorized: true } } : {}),
      connectTimeout: s.connectTimeoutMs,
      socketTimeout: s.connectTimeoutMs,
    });
    const hostRows = await conn.query<{ host: string }[]>('SELECT @@hostname AS host');
    const status = await conn.query<StatusRow[]>(
      `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_VARIABLES.map((v) => `'${v}'`).join(',')})`,
    );
    return { host: hostRows[0]?.host ?? '', status };
  } catch (err) {
    return { error: messageOf(err).split('\n')[0] ?? 'error' };
  } finally {
    if (conn) await conn.end().catch(() => conn?.destroy());
  }
}

export async function runDbStatus(s: DbSettings, print: Print): Promise<Outcome> {
  const deadline = Date.now() + s.timeoutMs;
  const expected = s.members.length;
  print(
    `INFO db-status: ${expected} member(s) as ${s.user} on port ${s.port} ` +
      `(${s.mode}), until all are good or ${s.timeoutMs / 1000}s`,
  );
  const last = new Map<string, MemberJudgement>();
  for (let round = 1; ; round++) {
    const pending = s.members.filter((m) => !last.get(m)?.ok);
    for (const member of pending) {
      const j = judgeMember(member, await askMember(member, s), s.mode, expected);
      last.set(member, j);
      print(`${j.ok ? 'PASS' : 'RETRY'} ${podOfMember(member)} (${member}) round ${round}: ${j.line}`);
    }
    if (s.members.every((m) => last.get(m)?.ok) || Date.now() + 2000 > deadline) break;
    await sleep(2000);
  }
  const judged = s.members.map((m) => last.get(m) ?? { member: m, ok: false, line: 'not asked' });
  const v = dbVerdict(judged, expected);
  return v;
}

/** A TCP connection attempt to address:port, bounded by timeoutMs; closed at once when it connects. */
function tcpProbe(host: string, port: number, timeoutMs: number): Promise<{ outcome: ProbeOutcome; detail: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = connect({ host, port });
    const done = (outcome: ProbeOutcome, detail: string): void => {
      sock.destroy();
      resolve({ outcome, detail: `${detail} after ${Date.now() - started} ms` });
    };
    sock.setTimeout(timeoutMs, () => {
      done('timeout', 'no answer');
    });
    sock.once('connect', () => {
      done('connected', 'connected');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      done(outcomeOf(err.code), err.code ?? err.message);
    });
  });
}

async function resolve(name: string): Promise<string | null> {
  try {
    return (await lookup(name)).address;
  } catch {
    return null;
  }
}

export async function runDbClosed(s: ClosedSettings, print: Print): Promise<Outcome> {
  print(
    `INFO db-closed: ${s.members.length} member(s) on ${s.ports.join(', ')} ` +
      `must not connect within ${s.connectTimeoutMs / 1000}s each; ` +
      `control ${s.control ? `${s.control.host}:${s.control.port}` : 'none'}`,
  );
  const deadline = Date.now() + s.timeoutMs;
  let control: ControlProbe | null = null;
  if (s.control) {
    const target = `${s.control.host}:${s.control.port}`;
    // The control may need a moment on a new pod (the engine learns its address): retry it, within the bound.
    for (;;) {
      const address = await resolve(s.control.host);
      const r = address
        ? await tcpProbe(address, s.control.port, s.connectTimeoutMs)
        : { outcome: 'unresolved' as const, detail: 'the name did not resolve' };
      control = { target, outcome: r.outcome, detail: r.detail };
      const ok = r.outcome === 'connected';
      print(`${ok ? 'PASS' : 'RETRY'} control ${target}${address ? ` (${address})` : ''}: ${r.outcome} (${r.detail})`);
      if (ok || Date.now() + 1000 > deadline) break;
      await sleep(1000);
    }
  }
  const probes: ClosedProbe[] = [];
  for (const member of s.members) {
    const address = await resolve(member);
    if (!address) {
      print(`FAIL ${podOfMember(member)} (${member}): the name did not resolve`);
      for (const port of s.ports)
        probes.push({ member, address: null, port, outcome: 'unresolved', detail: 'the name did not resolve' });
      continue;
    }
    for (const port of s.ports) {
      const r = await tcpProbe(address, port, s.connectTimeoutMs);
      probes.push({ member, address, port, outcome: r.outcome, detail: r.detail });
      const closed = r.outcome !== 'connected';
      print(
        `${closed ? 'PASS' : 'FAIL'} ${podOfMember(member)} ${address}` +
          `:${port}: ${closed ? 'closed' : 'OPEN'} (${r.detail})`,
      );
    }
  }
  const v = closedVerdict(probes, control);
  return v;
}

/** Runs one test; returns the exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, print: Print): Promise<number> {
  const name = argv[0];
  if (argv.length !== 1 || !TESTS.includes(name as TestName)) {
    print(`FAIL usage: main.js ${TESTS.join(' | ')} (got: ${argv.join(' ') || 'nothing'})`);
    return 2;
  }
  const started = Date.now();
  let outcome: Outcome;
  try {
    if (name === 'page') outcome = await runPage(pageSettings(env), print);
    else if (name === 'db-status') outcome = await runDbStatus(dbSettings(env), print);
    else outcome = await runDbClosed(closedSettings(env), print);
  } catch (err) {
    print(`VERDICT ${name} FAILED: ${messageOf(err)}`);
    return 2;
  }
  const took = ((Date.now() - started) / 1000).toFixed(1);
  print(`VERDICT ${name} ${outcome.ok ? 'PASSED' : 'FAILED'} in ${took}s: ${outcome.summary}`);
  return outcome.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2), process.env, (l) => {
    console.log(l);
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.log(`VERDICT FAILED: ${messageOf(err)}`);
      process.exitCode = 1;
    },
  );
}
