// R10: the release is deployed by Helm and every object of its manifest exists, owned by it (Helm's
// managed-by label and release annotations on the live object).
import { parseManifests, type K8sObject } from '../../chart/manifests.js';
import type { List } from '../../kube/kube.js';
import { fail, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

const key = (o: { kind: string; metadata: { name: string; namespace?: string } }): string =>
  `${o.kind}/${o.metadata.name}`;

/** Each manifest object must be live and carry Helm's ownership marks for this release. */
export function judgeOwnership(
  manifest: readonly K8sObject[],
  live: readonly K8sObject[],
  release: string,
  namespace: string,
): string[] {
  const byKey = new Map(live.map((o) => [key(o), o]));
  const problems: string[] = [];
  for (const m of manifest) {
    const o = byKey.get(key(m));
    if (!o) {
      problems.push(`${key(m)} is in the release's manifest but not in the cluster`);
      continue;
    }
    const labels = o.metadata.labels ?? {};
    const ann = o.metadata.annotations ?? {};
    if (labels['app.kubernetes.io/managed-by'] !== 'Helm')
      problems.push(`${key(o)} lacks app.kubernetes.io/managed-by=Helm`);
    if (ann['meta.helm.sh/release-name'] !== release)
      problems.push(
        `${key(o)} has meta.helm.sh/release-name=${ann['meta.helm.sh/release-name'] ?? '(none)'}, not ${release}`,
      );
    if (ann['meta.helm.sh/release-namespace'] !== namespace)
      problems.push(
        `${key(o)} has meta.helm.sh/release-namespace=` +
          `${ann['meta.helm.sh/release-namespace'] ?? '(none)'}, not ${namespace}`,
      );
  }
  return problems;
}

interface HelmStatus {
  name: string;
  version: number;
  info: { status: string; description?: string };
  chart?: { metadata?: { name?: string; version?: string } };
}

export const r10Helm: Requirement = {
  id: 'R10',
  title: 'Deployed with Helm',
  checks:
    "helm status says the release is deployed; every object of 'helm get " +
    "manifest' exists in the cluster with app.kubernetes.io/managed-by=Helm and " +
    'the meta.helm.sh/release-name/-namespace annotations of this release.',
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    const st = await ctx.kube.helm(['status', ctx.release, '-o', 'json'], { ev, allowFailure: true });
    if (st.code !== 0) {
      ev.add(`  ${st.stderr.trim()}`);
      return /not found/i.test(st.stderr)
        ? fail(`no Helm release '${ctx.release}' in namespace '${ctx.namespace}'`)
        : fail(`helm status failed: ${st.stderr.trim().split('\n')[0] ?? ''}`);
    }
    const status = JSON.parse(st.stdout) as HelmStatus;
    ev.add(
      `  release ${status.name} revision ${status.version}: ${status.info.status}` +
        (status.info.description ? ` (${status.info.description})` : ''),
    );
    ev.measure('revision', status.version);
    if (status.info.status !== 'deployed')
      return fail(`release '${ctx.release}' is ${status.info.status}, not deployed`);
    const manifestText = (await ctx.kube.helm(['get', 'manifest', ctx.release], { ev })).stdout;
    const manifest = parseManifests(manifestText);
    if (manifest.length === 0) return fail('the release has no objects');
    const live = (
      await ctx.kube.json<List<K8sObject>>(['get', '-f', '-', '--ignore-not-found'], { ev, input: manifestText })
    ).items;
    for (const m of manifest)
      ev.add(`  ${key(m).padEnd(50)} ${live.some((l) => key(l) === key(m)) ? 'live' : 'MISSING'}`);
    ev.measure('objects', manifest.length);
    ev.measure('objectsLive', live.length);
    return verdictOf(
      judgeOwnership(manifest, live, ctx.release, ctx.namespace),
      `release revision ${status.version} deployed; all ${manifest.length} objects live and owned by it`,
    );
  },
};
