// The global name server on the host: the real CoreDNS (built from tools/coredns) serving the files that
// global-dns.ts renders, on 127.0.0.1. Thin I/O: write the files, start the process, wait until it answers,
// change the answer by replacing the hosts file, stop by pid.
import { mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureGoBinaries } from '../setup/go-build.js';
import { pickFreePorts } from '../util/net.js';
import { isRunning, startDaemon, stopDaemon } from '../util/process.js';
import { silentProgress, type Progress } from '../util/progress.js';
import {
  DEFAULT_RELOAD_SECONDS,
  DEFAULT_TTL_SECONDS,
  dnsName,
  ipv4,
  nameInZone,
  port as checkPort,
  renderCorefile,
  renderHostsFile,
  renderZoneFile,
} from './global-dns.js';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
/** Tries with a new port when CoreDNS could not bind the one picked (pickFreePorts checks TCP, not UDP). */
const PORT_TRIES = 3;

export interface GlobalDnsOptions {
  /** Folder for the Corefile, the hosts and zone files and coredns.log (created if missing). */
  dir: string;
  /** e.g. `webstack.test`. */
  zone: string;
  /** The global name answered, inside `zone`. Default `www.<zone>`. */
  name?: string;
  /** Default: a free port (src/util/net.ts pickFreePorts). */
  port?: number;
  ttlSeconds?: number;
  reloadSeconds?: number;
  /** What the name answers at start; default none (NXDOMAIN). */
  address?: string;
  /** The coredns program; default the one built from tools/coredns (built now if missing: needs Go). */
  binary?: string;
  progress?: Progress;
}

export interface GlobalDns {
  /** Where it listens: 127.0.0.1, UDP and TCP. */
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** `host:port`, as dns `setServers` and TtlResolver take it. */
  readonly server: string;
  readonly name: string;
  readonly zone: string;
  readonly ttlSeconds: number;
  readonly reloadSeconds: number;
  readonly logFile: string;
  /**
   * Replaces the hosts file at once (temporary file + rename, never a half-written file). CoreDNS serves
   * it within `reloadSeconds`; clients holding the old answer keep it up to `ttlSeconds` more.
   */
  setAnswer(address: string | undefined): Promise<void>;
  /** SIGTERM, SIGKILL after 10 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** The last lines of a log file, for error messages. */
function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no log)';
  }
}

/**
 * Writes `content` to `file` through a temporary file and a rename. CoreDNS's hosts plugin re-reads the
 * file only when its mtime or size changed: on a file system with coarse timestamps two answers of the
 * same length written within one tick would look unchanged, so the new file's mtime is moved past the old.
 */
function replaceFile(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content);
  let before: bigint | undefined;
  try {
    before = statSync(file, { bigint: true }).mtimeNs;
  } catch {
    before = undefined;
  }
  const written = statSync(tmp, { bigint: true }).mtimeNs;
  if (before !== undefined && written <= before) {
    const next = new Date(Number(before / 1_000_000n) + 1000);
    utimesSync(tmp, next, next);
  }
  renameSync(tmp, file);
}

/** Resolves once the server answers the zone's SOA (served by the file plugin, so the zone is loaded). */
async function waitReady(server: string, zone: string, pid: number, binary: string, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: string;
  for (;;) {
    if (!isRunning(pid, binary)) throw new Error(`coredns exited while starting: ${tail(logFile)}`);
    const r = new Resolver({ timeout: 500, tries: 1 });
    r.setServers([server]);
    try {
      await r.resolveSoa(zone);
      return;
    } catch (err) {
      last = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`coredns on ${server} did not answer the SOA of ${zone} within 30 s (last: ${last}); ${logFile}`);
    }
    await sleep(100);
  }
}

/**
 * Starts CoreDNS for the global name and waits until it answers. A port that turns out taken (CoreDNS
 * exits while starting) is replaced by another free one, up to 3 tries, unless `port` was given.
 */
export async function startGlobalDns(opts: GlobalDnsOptions): Promise<GlobalDns> {
  const zone = dnsName(opts.zone, 'zone');
  const name = nameInZone(opts.name ?? `www.${zone}`, zone);
  const ttlSeconds = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const reloadSeconds = opts.reloadSeconds ?? DEFAULT_RELOAD_SECONDS;
  if (opts.port !== undefined) checkPort(opts.port, 'port');
  if (opts.address !== undefined) ipv4(opts.address, 'address');
  const binary = opts.binary ?? (await ensureGoBinaries(['coredns'], opts.progress ?? silentProgress)).coredns;

  mkdirSync(opts.dir, { recursive: true });
  const hostsFile = join(opts.dir, 'hosts');
  const zoneFile = join(opts.dir, `db.${zone}`);
  const corefile = join(opts.dir, 'Corefile');
  const logFile = join(opts.dir, 'coredns.log');
  writeFileSync(zoneFile, renderZoneFile({ zone, ttlSeconds }));
  replaceFile(hostsFile, renderHostsFile(name, opts.address));

  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await pickFreePorts(1, HOST))[0];
    if (port === undefined) throw new Error('no free port for coredns');
    writeFileSync(
      corefile,
      renderCorefile({ zone, listen: { host: HOST, port }, hostsFile, zoneFile, ttlSeconds, reloadSeconds }),
    );
    const pid = startDaemon({ binary, args: ['-conf', corefile], logFile, cwd: opts.dir });
    const server = `${HOST}:${port}`;
    try {
      await waitReady(server, zone, pid, binary, logFile);
    } catch (err) {
      await stopDaemon(pid, binary, 2_000);
      const portTaken = /address already in use/.test(tail(logFile));
      if (opts.port === undefined && portTaken && attempt < PORT_TRIES) continue;
      throw err;
    }
    return {
      host: HOST,
      port,
      pid,
      server,
      name,
      zone,
      ttlSeconds,
      reloadSeconds,
      logFile,
      setAnswer: (address) => {
        replaceFile(hostsFile, renderHostsFile(name, address));
        return Promise.resolve();
      },
      stop: () => stopDaemon(pid, binary, 10_000),
    };
  }
}
