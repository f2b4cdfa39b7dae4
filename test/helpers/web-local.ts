// Running the web tier's rendered files on this machine, exactly as the pod does: the init container's
// script renders the page, then nginx starts with the rendered nginx.conf under its own prefix. Used by the
// integration tests and bench:web. The only change from the pod is the listen address: the pod listens
// on all of its own addresses, here nginx binds loopback only.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/util/exec.js';
import type { K8sObject } from '../../src/chart/manifests.js';

export interface PodFacts {
  podName: string;
  podIP: string;
  nodeName: string;
  namespace: string;
}

export interface WebLayout {
  /** The ConfigMap's files (nginx.conf, site-default.conf, render-page.sh, …), like /etc/kstack/web. */
  confDir: string;
  /** nginx's prefix (-p): pid and temp paths, with the page in html/. */
  prefix: string;
  /** Where the init container writes the page (prefix/html). */
  pageDir: string;
}

export function webLayout(root: string): WebLayout {
  return { confDir: join(root, 'conf'), prefix: join(root, 'prefix'), pageDir: join(root, 'prefix', 'html') };
}

/** Rewrites `listen <port>` directives to bind `host` only (pure). Fails if the config has none. */
export function bindListenTo(conf: string, host: string): string {
  let count = 0;
  const out = conf.replace(/^(\s*listen\s+)(\d+)(\b[^;]*;)/gm, (_m, lead: string, port: string, rest: string) => {
    count++;
    return `${lead}${host}:${port}${rest}`;
  });
  if (count === 0) throw new Error('no "listen <port>" directive found in the site config');
  return out;
}

/**
 * Writes the ConfigMap's files into layout.confDir (the site bound to `host`) and creates the prefix.
 * Folders are world-readable because nginx's workers run as an unprivileged user when started by root.
 */
export function writeWebFiles(layout: WebLayout, data: Record<string, string>, host = '127.0.0.1'): void {
  for (const dir of [layout.confDir, layout.prefix, layout.pageDir]) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
  }
  for (const [file, text] of Object.entries(data)) {
    if (file.includes('/')) throw new Error(`ConfigMap key '${file}' is not a plain file name`);
    writeFileSync(
      join(layout.confDir, file),
      file.startsWith('site-') || file.startsWith('server-') ? bindListenTo(text, host) : text,
      { mode: 0o644 },
    );
  }
}

/**
 * The literal environment of the render-page init container in a rendered web Deployment (the page
 * title, the serving-host format, …), so the script runs here with what the pod would give it. The
 * downward API variables and the two folders are set by renderPage.
 */
export function initContainerEnv(deployment: K8sObject): Record<string, string> {
  const spec = deployment.spec as
    | { template?: { spec?: { initContainers?: { name: string; env?: { name: string; value?: string }[] }[] } } }
    | undefined;
  const init = spec?.template?.spec?.initContainers?.find((c) => c.name === 'render-page');
  if (!init) throw new Error('the web Deployment has no render-page init container');
  const skip = new Set(['PAGE_SOURCE_DIR', 'PAGE_OUTPUT_DIR']);
  return Object.fromEntries(
    (init.env ?? []).filter((e) => e.value !== undefined && !skip.has(e.name)).map((e) => [e.name, e.value ?? '']),
  );
}

/**
 * The literal environment of the webinfo container in a rendered web Deployment (WEBINFO_REGION, the data
 * source's settings, …); variables from the downward API or a Secret are left out.
 */
export function webinfoEnv(deployment: K8sObject): Record<string, string> {
  const spec = deployment.spec as
    { template?: { spec?: { containers?: { name: string; env?: { name: string; value?: string }[] }[] } } } | undefined;
  const webinfo = spec?.template?.spec?.containers?.find((c) => c.name === 'webinfo');
  if (!webinfo) throw new Error('the web Deployment has no webinfo container');
  return Object.fromEntries(
    (webinfo.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? '']),
  );
}

/** Runs the init container's script (render-page.sh) with `sh`, as the pod does. Returns its stdout. */
export async function renderPage(layout: WebLayout, pod: PodFacts, env: Record<string, string> = {}): Promise<string> {
  const script = join(layout.confDir, 'render-page.sh');
  if (!existsSync(script)) throw new Error(`no render-page.sh in ${layout.confDir}`);
  const res = await run('/bin/sh', [script], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...env,
      POD_NAME: pod.podName,
      POD_IP: pod.podIP,
      NODE_NAME: pod.nodeName,
      POD_NAMESPACE: pod.namespace,
      PAGE_SOURCE_DIR: layout.confDir,
      PAGE_OUTPUT_DIR: layout.pageDir,
    },
  });
  for (const f of ['index.html', 'page.css', 'page.js', 'pod.json', 'serving-host']) {
    if (existsSync(join(layout.pageDir, f))) chmodSync(join(layout.pageDir, f), 0o644);
  }
  return res.stdout;
}

/** The nginx command line the pod runs (templates/web/deployment.yaml), for this layout. */
export function nginxArgs(layout: WebLayout): string[] {
  return ['-p', `${layout.prefix}/`, '-c', join(layout.confDir, 'nginx.conf'), '-e', 'stderr'];
}

/**
 * `nginx -t` with the rendered config; throws with nginx's message when the config is refused. Output goes
 * to a file: the config logs to /dev/stdout, which cannot be opened when stdout is a socket (as node's
 * child pipes are); in a pod it is a FIFO, and here a file.
 */
export async function checkNginxConfig(nginx: string, layout: WebLayout): Promise<void> {
  const logFile = join(layout.prefix, 'nginx-t.log');
  const out = openSync(logFile, 'w');
  const child = spawn(nginx, ['-t', ...nginxArgs(layout)], { stdio: ['ignore', out, out] });
  closeSync(out);
  const code = await new Promise<number>((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => {
      resolvePromise(c ?? 1);
    });
  });
  if (code !== 0) throw new Error(`nginx -t refused the rendered config:\n${readFileSync(logFile, 'utf8').trim()}`);
}

export interface LocalNginx {
  pid: number;
  /** Graceful stop (SIGQUIT, as the pod's preStop does), then SIGKILL after `graceMs`; waits for the exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts nginx in the foreground (the config says `daemon off`) with stdout/stderr appended to `logFile`. */
export async function startLocalNginx(
  nginx: string,
  layout: WebLayout,
  logFile: string,
  readyURL: string,
): Promise<LocalNginx> {
  const out = openSync(logFile, 'a');
  const child = spawn(nginx, nginxArgs(layout), { stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolvePromise) =>
    child.once('exit', () => {
      resolvePromise();
    }),
  );
  let running = true;
  void exited.then(() => {
    running = false;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${nginx}`);
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (!running) return;
    child.kill('SIGQUIT');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForHttp(readyURL, 15_000, () => running);
  } catch (err) {
    await stop(1000);
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
    throw new Error(`${err instanceof Error ? err.message : String(err)}${log ? `\nnginx log:\n${log}` : ''}`, {
      cause: err,
    });
  }
  return { pid, stop };
}

/** Polls `url` until it answers 200, the time is up, or `alive` says the server has exited. */
export async function waitForHttp(url: string, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the server for ${url} exited before it answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000}s (last: ${last})`);
}
