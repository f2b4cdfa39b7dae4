// The I/O edge of the enforcement canary (decisions in netpol-canary.ts): apply, probe, judge, tidy up.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1PodList } from '@kubernetes/client-node';
import { run } from '../../util/exec.js';
import { UserError } from '../../util/errors.js';
import type { Step } from '../../util/progress.js';
import type { ObservedCell } from '../../netpol/matrix.js';
import { ipEndpoint } from '../../netpol/evaluator.js';
import { runProbes, type KubectlRunner } from '../../netpol/probe.js';
import {
  CANARY_CLIENT_SELECTOR,
  CANARY_NAMESPACE,
  CANARY_POLICY,
  CANARY_PORT,
  CANARY_SERVER_SELECTOR,
  canaryDenyPolicy,
  canaryFailureMessage,
  canaryObjects,
  nodesNotShowing,
  planCanary,
  type CanaryFailureContext,
  type CanaryPlan,
  type CanaryPod,
} from './netpol-canary.js';

export interface CanaryNode {
  name: string;
  netns: string;
  /** kube-router's log file on this node. */
  log: string;
  engineRunning: () => boolean;
}

export interface CanaryInput {
  kubectl: string;
  kubeconfig: string;
  nodes: readonly CanaryNode[];
  /** Seconds to wait for the canary pods to answer without a policy (they may still be starting). */
  reachSeconds?: number;
  /** Seconds the engine gets to close (and later reopen) every connection. */
  enforceSeconds?: number;
}

export interface CanaryResult {
  /**
   * Milliseconds from applying the deny policy until every node
   * refused, and from deleting it until every node answered.
   */
  denyMs: number;
  reopenMs: number;
}

export function kubectlRunner(kubectl: string, kubeconfig: string): KubectlRunner {
  return (args) => run(kubectl, ['--kubeconfig', kubeconfig, ...args], { allowFailure: true, timeoutMs: 30_000 });
}

async function must(kubectl: string, kubeconfig: string, args: string[], input?: string): Promise<string> {
  const res = await run(kubectl, ['--kubeconfig', kubeconfig, ...args], {
    ...(input === undefined ? {} : { input }),
    allowFailure: true,
    timeoutMs: 30_000,
  });
  if (res.code !== 0) throw new UserError(`kubectl ${args.join(' ')} failed: ${res.stderr.trim()}`);
  return res.stdout;
}

async function listCanaryPods(k: KubectlRunner, selector: string): Promise<CanaryPod[]> {
  const res = await k(['-n', CANARY_NAMESPACE, 'get', 'pods', '-l', selector, '-o', 'json']);
  if (res.code !== 0) return [];
  const list = JSON.parse(res.stdout) as V1PodList;
  return list.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => ({
      name: p.metadata?.name ?? '',
      node: p.spec?.nodeName ?? '',
      ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
      running:
        p.status?.phase === 'Running' &&
        (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    }));
}

/** One probe round: the client dials every node's server. */
async function probeRound(k: KubectlRunner, plan: CanaryPlan): Promise<Map<string, ObservedCell>> {
  const client = plan.client;
  if (!client) return new Map();
  const nodes = [...plan.servers.keys()];
  const targets = nodes.map((n) => {
    const ip = plan.servers.get(n)?.ip ?? '';
    return { to: ipEndpoint(ip), ip, port: CANARY_PORT };
  });
  const observed = await runProbes(k, [{ namespace: CANARY_NAMESPACE, pod: client.name }], targets, {
    timeoutSeconds: 1,
  });
  const row = Object.values(observed.cells)[0] ?? {};
  return new Map(
    nodes.map((n, i) => [
      n,
      row[`${targets[i]?.ip ?? ''}:${CANARY_PORT}`] ?? { result: 'error', detail: 'not probed' },
    ]),
  );
}

/**
 * Proves enforcement on every node, or throws a UserError naming the nodes where it fails. Leaves the
 * canary pods running (a later `up` is then quick) and never leaves the deny policy behind.
 */
export async function runCanary(input: CanaryInput, step: Step): Promise<CanaryResult> {
  const k = kubectlRunner(input.kubectl, input.kubeconfig);
  const nodeNames = input.nodes.map((n) => n.name);
  const apply = (objects: object[]): Promise<string> =>
    must(
      input.kubectl,
      input.kubeconfig,
      ['apply', '--server-side', '--force-conflicts', '--field-manager=kstack', '-f', '-'],
      objects.map((o) => JSON.stringify(o)).join('\n'),
    );
  const deletePolicy = (): Promise<unknown> =>
    k(['-n', CANARY_NAMESPACE, 'delete', 'networkpolicy', CANARY_POLICY, '--ignore-not-found', '--wait=false']);
  const fail = (
    phase: CanaryFailureContext['phase'],
    nodes: string[],
    plan: CanaryPlan,
    seconds: number,
    observed: ReadonlyMap<string, ObservedCell>,
  ): UserError => {
    const byName = new Map(input.nodes.map((n) => [n.name, n]));
    return new UserError(
      canaryFailureMessage({
        phase,
        nodes,
        seconds,
        observed,
        clientNode: plan.client?.node ?? '(no client)',
        details: (n) => {
          const node = byName.get(n);
          const log = node?.log ?? '?';
          const logTail = existsSync(log)
            ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-3).join('\n')
            : undefined;
          return {
            log,
            netns: node?.netns ?? '?',
            engineRunning: node?.engineRunning() ?? false,
            ...(logTail ? { logTail } : {}),
          };
        },
      }),
    );
  };

  await deletePolicy();
  await apply(canaryObjects());
  try {
    // 1. Without a policy every server answers (pods may still be starting: wait for them).
    const reachSeconds = input.reachSeconds ?? 120;
    let plan: CanaryPlan = { servers: new Map(), waitingFor: nodeNames };
    let observed = new Map<string, ObservedCell>();
    for (const deadline = Date.now() + reachSeconds * 1000; ;) {
      plan = planCanary(
        nodeNames,
        await listCanaryPods(k, CANARY_CLIENT_SELECTOR),
        await listCanaryPods(k, CANARY_SERVER_SELECTOR),
      );
      if (plan.client && plan.waitingFor.length === 0) {
        observed = await probeRound(k, plan);
        if (nodesNotShowing('open', observed).length === 0) break;
      }
      const waiting = !plan.client
        ? ['the client']
        : plan.waitingFor.length
          ? plan.waitingFor
          : nodesNotShowing('open', observed);
      step.detail(`canary: waiting for ${waiting.join(', ')}`);
      if (Date.now() > deadline) {
        if (!plan.client || plan.waitingFor.length) {
          throw new UserError(
            `the NetworkPolicy canary pods did not start on ${waiting.join(', ')} within ${reachSeconds} ` +
              `s; see 'kubectl -n ${CANARY_NAMESPACE} describe pods'. The cluster is not reported Ready.`,
          );
        }
        throw fail('reach', nodesNotShowing('open', observed), plan, reachSeconds, observed);
      }
      await sleep(500);
    }
    // 2. A deny-all policy closes every connection, and 3. deleting it opens them again.
    const enforceSeconds = input.enforceSeconds ?? 20;
    const until = async (want: 'open' | 'closed', phase: 'deny' | 'reopen'): Promise<number> => {
      const t0 = Date.now();
      for (;;) {
        observed = await probeRound(k, plan);
        const pending = nodesNotShowing(want, observed);
        if (pending.length === 0) return Date.now() - t0;
        step.detail(
          `canary: ${phase === 'deny' ? 'deny policy' : 'policy removed'}, waiting for ${pending.join(', ')}`,
        );
        if (Date.now() - t0 > enforceSeconds * 1000) throw fail(phase, pending, plan, enforceSeconds, observed);
        await sleep(250);
      }
    };
    await apply([canaryDenyPolicy()]);
    const denyMs = await until('closed', 'deny');
    await must(input.kubectl, input.kubeconfig, [
      '-n',
      CANARY_NAMESPACE,
      'delete',
      'networkpolicy',
      CANARY_POLICY,
      '--wait=false',
    ]);
    const reopenMs = await until('open', 'reopen');
    return { denyMs, reopenMs };
  } finally {
    await deletePolicy();
  }
}
