// R9: podwatch reports pod changes as they happen: web scaled 3→4 (created), a label patched (updated,
// with the label in the diff), scaled back (terminating, deleted). Events are read from podwatch's own
// Server-Sent Events endpoint (/events) on every podwatch pod, through port-forwards; the latency is
// from just before the kubectl command to the event's arrival here.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment } from '@kubernetes/client-node';
import { componentSelector, type Kube, type List } from '../../kube/kube.js';
import { isPodReady, podName, podsOf } from './stack.js';
import { fail, skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export interface SeenEvent {
  type: 'created' | 'updated' | 'deleted';
  pod: string;
  changes: { field: string; from?: string; to?: string }[];
  /** ms since the epoch, when it arrived here. */
  arrived: number;
  via: string;
}

/** Splits an SSE stream into its `data:` payloads; returns the complete ones and the rest. */
export function parseSse(buffer: string): { data: string[]; rest: string } {
  const blocks = buffer.split('\n\n');
  const rest = blocks.pop() ?? '';
  const data = blocks.flatMap((b) => {
    const lines = b
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart());
    return lines.length ? [lines.join('\n')] : [];
  });
  return { data, rest };
}

export interface Expectation {
  key: string;
  what: string;
  match: (e: SeenEvent) => boolean;
  after: number;
  withinMs: number;
}

/** For each expectation: the first matching event after its action, its latency, and whether in time. */
export function judgeEvents(
  events: readonly SeenEvent[],
  expectations: readonly Expectation[],
): { problems: string[]; latencies: Record<string, number> } {
  const problems: string[] = [];
  const latencies: Record<string, number> = {};
  for (const x of expectations) {
    const e = events.filter((ev) => ev.arrived >= x.after && x.match(ev)).sort((a, b) => a.arrived - b.arrived)[0];
    if (!e) {
      problems.push(`podwatch reported no ${x.what}`);
      continue;
    }
    const ms = e.arrived - x.after;
    latencies[x.key] = ms;
    if (ms > x.withinMs)
      problems.push(
        `podwatch reported ${x.what} after ${(ms / 1000).toFixed(1)} s (allowed ${(x.withinMs / 1000).toFixed(0)} s)`,
      );
  }
  return { problems, latencies };
}

interface Listener {
  events: SeenEvent[];
  stop(): void;
}

/** Port-forwards to a podwatch pod and collects its SSE events. */
async function listen(kube: Kube, pod: string, port: number): Promise<Listener> {
  const child = spawn(
    kube.opts.kubectl,
    [...kube.opts.kubeArgs, '-n', kube.namespace, 'port-forward', '--address', '127.0.0.1', `pod/${pod}`, `:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const localPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`port-forward to ${pod} did not start: ${out}`));
    }, 30_000);
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`port-forward to ${pod} exited: ${out}`));
    });
  });
  const controller = new AbortController();
  const events: SeenEvent[] = [];
  const res = await fetch(`http://127.0.0.1:${localPort}/events`, { signal: controller.signal });
  if (!res.ok || !res.body) {
    child.kill();
    throw new Error(`podwatch ${pod} /events answered ${res.status}`);
  }
  void (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const { data, rest } = parseSse(buffer + decoder.decode(chunk, { stream: true }));
        buffer = rest;
        for (const d of data) {
          const e = JSON.parse(d) as { type: SeenEvent['type']; pod: { name: string }; changes?: SeenEvent['changes'] };
          events.push({ type: e.type, pod: e.pod.name, changes: e.changes ?? [], arrived: Date.now(), via: pod });
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    events,
    stop: () => {
      controller.abort();
      child.kill('SIGTERM');
    },
  };
}

export const r9Podwatch: Requirement = {
  id: 'R9',
  title: 'podwatch reports pod changes',
  checks:
    "podwatch's /events stream (Server-Sent Events, on every podwatch pod through a " +
    'port-forward) must report: a created event when web is scaled up by one, an updated event ' +
    'whose diff names the label when a web pod is labelled, and the terminating update ' +
    'and deleted event when web is scaled back; each within a few seconds (latency from the ' +
    "kubectl command to the event's arrival). The label and replica count are restored.",
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.podwatch.enabled)
      return skipped(`the release's values turn podwatch off (podwatch.enabled is false)`);
    const all = await podsOf(ctx.kube, ctx.release, 'podwatch', ev);
    const watchers = all.filter(isPodReady);
    ev.add(
      `  podwatch pods: ${
        all.map((p) => `${podName(p)}${isPodReady(p) ? ' Ready' : ' not Ready'}`).join(', ') || '(none)'
      }`,
    );
    if (watchers.length === 0)
      return fail(
        `podwatch.enabled is true but no podwatch pod is Ready (${all.length} ` +
          `pod${all.length === 1 ? '' : 's'}): nobody reports pod changes`,
      );
    if (ctx.intent.web.autoscaled)
      return skipped(
        `the release's values autoscale web (web.autoscaling.enabled): scaling it by hand would fight the autoscaler`,
      );
    // The runner settled the release before this row (run.ts), so an earlier row's rollout (R3's, and back)
    // sends no events that could be taken for the drill's.
    const dep = (
      await ctx.kube.json<List<V1Deployment>>(['get', 'deployments', '-l', componentSelector(ctx.release, 'web')], {
        ev,
      })
    ).items[0];
    if (!dep) return fail(`release '${ctx.release}' has no web Deployment`);
    const depName = dep.metadata?.name ?? '';
    const replicas = dep.spec?.replicas ?? 1;
    const grace = dep.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    ev.add(`  web Deployment settled (${replicas} Ready, none terminating)`);
    const port = watchers[0]?.spec?.containers[0]?.ports?.find((p) => p.name === 'http')?.containerPort ?? 8080;
    const listeners: Listener[] = [];
    // Every web pod there is now (terminating ones included) is not "the added one"; the label goes on a
    // Ready one that is not going away (an earlier rollout may leave terminating pods behind).
    const current = await podsOf(ctx.kube, ctx.release, 'web');
    const webPods = current.map(podName);
    const token = `v${randomBytes(4).toString('hex')}`;
    const target = current.find(isPodReady);
    if (!target) return fail('no Ready web pod to label');
    const labelled = podName(target);
    let scaled = false;
    let labelSet = false;
    const marks = { create: 0, update: 0, delete: 0 };
    try {
      for (const w of watchers) listeners.push(await listen(ctx.kube, podName(w), port));
      ev.add(`  listening to /events on ${watchers.map(podName).join(', ')} (port-forward to :${port})`);
      await sleep(1500); // let the replay of recent events pass
      const all = (): SeenEvent[] => listeners.flatMap((l) => l.events);
      const isNewWeb = (e: SeenEvent): boolean => !webPods.includes(e.pod) && e.pod.startsWith(`${depName}-`);

      marks.create = Date.now();
      await ctx.kube.kubectl(['scale', `deployment/${depName}`, `--replicas=${replicas + 1}`], { ev });
      scaled = true;
      await waitFor(() => all().some((e) => e.arrived >= marks.create && e.type === 'created' && isNewWeb(e)), 15_000);
      const created = all().find((e) => e.arrived >= marks.create && e.type === 'created' && isNewWeb(e));

      marks.update = Date.now();
      await ctx.kube.kubectl(['label', 'pod', labelled, `kstack-prove=${token}`], { ev });
      labelSet = true;
      await waitFor(
        () =>
          all().some(
            (e) =>
              e.arrived >= marks.update &&
              e.pod === labelled &&
              e.changes.some((c) => c.field === 'label.kstack-prove'),
          ),
        15_000,
      );

      // Wait for the new pod to run, so that scaling back deletes a running pod.
      await waitFor(
        async () => (await podsOf(ctx.kube, ctx.release, 'web')).filter(isPodReady).length >= replicas + 1,
        120_000,
      );
      // The removed pod is one of those running now: events of any other pod are not the drill's.
      const running = new Set((await podsOf(ctx.kube, ctx.release, 'web')).filter(isPodReady).map(podName));
      const isRemovable = (e: SeenEvent): boolean => running.has(e.pod);
      marks.delete = Date.now();
      await ctx.kube.kubectl(['scale', `deployment/${depName}`, `--replicas=${replicas}`], { ev });
      scaled = false;
      await waitFor(
        () => all().some((e) => e.arrived >= marks.delete && e.type === 'deleted' && isRemovable(e)),
        (grace + 20) * 1000,
      );

      const events = all();
      for (const e of events.filter((x) => x.arrived >= marks.create)) {
        ev.add(
          `  +${((e.arrived - marks.create) / 1000).toFixed(2)} s via ${e.via}: ${e.type} ${e.pod}${
            e.changes.length
              ? ` ${e.changes.map((c) => `${c.field}: ${c.from ?? '∅'} → ${c.to ?? '∅'}`).join(', ')}`
              : ''
          }`,
        );
      }
      const { problems, latencies } = judgeEvents(events, [
        {
          key: 'createdMs',
          what: 'created event for the added web pod',
          match: (e) => e.type === 'created' && isNewWeb(e),
          after: marks.create,
          withinMs: 5000,
        },
        {
          key: 'updatedMs',
          what: `updated event with label.kstack-prove → ${token} on ${labelled}`,
          match: (e) =>
            e.type === 'updated' &&
            e.pod === labelled &&
            e.changes.some((c) => c.field === 'label.kstack-prove' && c.to === token),
          after: marks.update,
          withinMs: 5000,
        },
        {
          key: 'terminatingMs',
          what: 'terminating update for the removed web pod',
          match: (e) => e.type === 'updated' && isRemovable(e) && e.changes.some((c) => c.field === 'terminating'),
          after: marks.delete,
          withinMs: 5000,
        },
        {
          key: 'deletedMs',
          what: 'deleted event for the removed web pod',
          match: (e) => e.type === 'deleted' && isRemovable(e),
          after: marks.delete,
          withinMs: (grace + 10) * 1000,
        },
      ]);
      for (const [k, ms] of Object.entries(latencies)) ev.measure(k, ms);
      if (created) ev.add(`  the added pod was ${created.pod}`);
      return verdictOf(
        problems,
        `created, updated (with the label diff) and deleted reported; latencies ` +
          `created ${sec(latencies.createdMs)}, updated ${sec(latencies.updatedMs)}, ` +
          `terminating ${sec(latencies.terminatingMs)}, ` +
          `deleted ${sec(latencies.deletedMs)} (deleted includes the pod's graceful shutdown)`,
      );
    } finally {
      if (labelSet) await ctx.kube.kubectl(['label', 'pod', labelled, 'kstack-prove-'], { ev, allowFailure: true });
      if (scaled)
        await ctx.kube.kubectl(['scale', `deployment/${depName}`, `--replicas=${replicas}`], {
          ev,
          allowFailure: true,
        });
      for (const l of listeners) l.stop();
    }
  },
};

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(250);
  }
  return false;
}

const sec = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
