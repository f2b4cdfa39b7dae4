// kubectl and helm against one selected cluster and namespace: the thin I/O edge of prove's rows, the stack's
// backup/restore commands and the netpol probes (a release's install and removal: helm-release.ts). Each
// command can be recorded (a prove row's evidence) as a user could retype it, without the kubeconfig/context
// arguments.
import type { V1Secret } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { UserError } from '../util/errors.js';
import { run, type RunResult } from '../util/exec.js';

/** Where commands are written down as they run (a prove row's Evidence is one). */
export interface CommandLog {
  add(line: string): void;
}

export interface KubeOptions {
  kubectl: string;
  helm: string;
  /** Select the cluster for kubectl: ['--kubeconfig', p] or ['--context', c]. */
  kubeArgs: string[];
  /** The same for helm: ['--kubeconfig', p] or ['--kube-context', c]. */
  helmArgs: string[];
  namespace: string;
}

export interface CmdOptions {
  input?: string;
  allowFailure?: boolean;
  /** Kill the command after this long: 2 minutes for kubectl and 10 for helm when not given; 0, no limit. */
  timeoutMs?: number;
  /** Record the command in this evidence. */
  ev?: CommandLog;
  /** Do not prefix "-n <namespace>" (cluster-scoped or other-namespace commands). */
  clusterScope?: boolean;
}

const shellQuote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
/** An argument as evidence: quoted, and a long script shortened to its size. */
const evidenceArg = (a: string): string => (a.length > 200 ? `'<script, ${a.length} chars>'` : shellQuote(a));

export class Kube {
  constructor(readonly opts: KubeOptions) {}

  get namespace(): string {
    return this.opts.namespace;
  }

  async kubectl(args: readonly string[], o: CmdOptions = {}): Promise<RunResult> {
    const full = o.clusterScope ? [...args] : ['-n', this.opts.namespace, ...args];
    o.ev?.add(`$ kubectl ${full.map(evidenceArg).join(' ')}`);
    return run(this.opts.kubectl, [...this.opts.kubeArgs, ...full], {
      ...(o.input !== undefined ? { input: o.input } : {}),
      ...(o.allowFailure ? { allowFailure: true } : {}),
      timeoutMs: o.timeoutMs ?? 120_000,
    });
  }

  async json<T>(args: readonly string[], o: CmdOptions = {}): Promise<T> {
    const res = await this.kubectl([...args, '-o', 'json'], o);
    return JSON.parse(res.stdout) as T;
  }

  /** `kubectl exec POD -c CONTAINER -- cmd…`; resolves with the result, also on a non-zero exit. */
  async exec(
    pod: string,
    container: string | undefined,
    cmd: readonly string[],
    o: CmdOptions = {},
  ): Promise<RunResult> {
    return this.kubectl(['exec', pod, ...(container ? ['-c', container] : []), '--', ...cmd], {
      allowFailure: true,
      ...o,
    });
  }

  async helm(args: readonly string[], o: CmdOptions = {}): Promise<RunResult> {
    const full = ['--namespace', this.opts.namespace, ...args];
    o.ev?.add(`$ helm ${full.map(shellQuote).join(' ')}`);
    return run(this.opts.helm, [...full, ...this.opts.helmArgs], {
      ...(o.allowFailure ? { allowFailure: true } : {}),
      timeoutMs: o.timeoutMs ?? 600_000,
    });
  }

  /**
   * A long-running `kubectl exec -i` (e.g. a load generator) whose stdin stays open until `finish()`,
   * which closes it and resolves with everything the command printed.
   */
  execStream(
    pod: string,
    container: string | undefined,
    cmd: readonly string[],
    ev?: CommandLog,
    namespace = this.opts.namespace,
  ): ExecStream {
    const args = ['-n', namespace, 'exec', '-i', pod, ...(container ? ['-c', container] : []), '--', ...cmd];
    ev?.add(`$ kubectl ${args.map(evidenceArg).join(' ')}`);
    const child = spawn(this.opts.kubectl, [...this.opts.kubeArgs, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const done = new Promise<RunResult>((resolve) => {
      child.on('close', (code) => {
        resolve({ stdout, stderr, code: code ?? 1 });
      });
      child.on('error', (err) => {
        resolve({ stdout, stderr: `${stderr}${err.message}`, code: 1 });
      });
    });
    let exited = false;
    child.on('close', () => {
      exited = true;
    });
    return {
      peek: () => stdout,
      exited: () => exited,
      finish: async () => {
        child.stdin.end();
        const timer = setTimeout(() => {
          child.kill('SIGTERM');
        }, 30_000);
        try {
          return await done;
        } finally {
          clearTimeout(timer);
        }
      },
    };
  }
}

/** A running `kubectl exec -i`: what it printed so far, whether it ended, and finish (close stdin, wait). */
export interface ExecStream {
  peek(): string;
  exited(): boolean;
  finish(): Promise<RunResult>;
}

/** Objects as kubectl lists them. */
export interface List<T> {
  items: T[];
}

/** Labels selecting the release's objects of one component. */
export const componentSelector = (release: string, component: string): string =>
  `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${component}`;

/**
 * A Helm release's computed values (`helm get values --all`): what it was installed with, defaults included.
 * A release helm does not know in the Kube's namespace is a UserError naming it and what to check.
 */
export async function releaseValues(kube: Kube, release: string, ev?: CommandLog): Promise<Record<string, unknown>> {
  const res = await kube.helm(['get', 'values', release, '--all', '-o', 'json'], {
    allowFailure: true,
    ...(ev ? { ev } : {}),
  });
  if (res.code !== 0) {
    throw new UserError(
      `cannot read the values of Helm release '${release}' in namespace ` +
        `'${kube.namespace}' (${(res.stderr || res.stdout).trim().split('\n')[0] ?? ''}); ` +
        `give --release and --namespace of the installed webstack chart`,
    );
  }
  const v = JSON.parse(res.stdout || '{}') as unknown;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Pure: the image pull Secrets the release's values name (global.imagePullSecrets: names or {name}). */
export function imagePullSecretNames(values: Record<string, unknown>): string[] {
  const global = values.global;
  const list =
    typeof global === 'object' && global !== null ? (global as Record<string, unknown>).imagePullSecrets : undefined;
  if (!Array.isArray(list)) return [];
  return list
    .map((e: unknown) => (typeof e === 'string' ? e : ((e as { name?: unknown } | null)?.name ?? '')))
    .filter((n): n is string => typeof n === 'string' && n !== '');
}

/**
 * A Secret re-made for another namespace (data kept, server fields dropped). Pure. With `adoptBy`, it is
 * marked as that helm release's, so the release's chart adopts it when it renders a Secret of that name
 * (and, through its lookups, keeps the data).
 */
export function secretCopy(s: V1Secret, namespace: string, adoptBy?: { release: string }): V1Secret {
  const owner: { labels: Record<string, string>; annotations: Record<string, string> } = adoptBy
    ? {
        labels: { 'app.kubernetes.io/managed-by': 'Helm' },
        annotations: { 'meta.helm.sh/release-name': adoptBy.release, 'meta.helm.sh/release-namespace': namespace },
      }
    : {
        labels: { 'app.kubernetes.io/managed-by': 'kstack', 'kstack.io/copied-from': s.metadata?.namespace ?? '' },
        annotations: {},
      };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: s.metadata?.name,
      namespace,
      labels: owner.labels,
      annotations: { ...owner.annotations, 'helm.sh/resource-policy': 'keep' },
    },
    type: s.type ?? 'Opaque',
    data: s.data ?? {},
  };
}

/**
 * Copies Secrets of the Kube's namespace into another one (image pull Secrets for pods kstack makes
 * outside the release, the backup Secrets for a restore elsewhere). A name that does not exist fails.
 */
export async function copySecrets(
  kube: Kube,
  names: readonly string[],
  toNamespace: string,
  o: Pick<CmdOptions, 'ev'> = {},
): Promise<void> {
  for (const name of names) {
    const secret = await kube.json<V1Secret>(['get', 'secret', name]);
    await kube.kubectl(['apply', '-f', '-'], {
      clusterScope: true,
      input: JSON.stringify(secretCopy(secret, toNamespace)),
      ...(o.ev ? { ev: o.ev } : {}),
    });
  }
}

/**
 * Pod Security Admission labels of a namespace that only admits pods meeting the "restricted" standard: the
 * release's namespace (`kstack up`, a restore into a new namespace). Privileged helpers of kstack (prove's
 * capture) run in kstack's own namespaces, never there.
 */
export const RESTRICTED_NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
};

/** `kubectl` arguments that set those labels on a namespace (idempotent). */
export const restrictNamespaceArgs = (namespace: string): string[] => [
  'label',
  'namespace',
  namespace,
  '--overwrite',
  ...Object.entries(RESTRICTED_NAMESPACE_LABELS).map(([k, v]) => `${k}=${v}`),
];
