// Readiness of a release's workloads, as people want to see it while they wait (pure parts + one poll).
import { run } from '../util/exec.js';
export interface WorkloadStatus {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  component: string;
  desired: number;
  ready: number;
  /** The controller has seen the latest spec and all replicas run it. */
  current: boolean;
}

interface WorkloadObject {
  kind: string;
  metadata: { name: string; generation?: number; labels?: Record<string, string> };
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number; replicas?: number };
}

export function workloadStatus(obj: WorkloadObject): WorkloadStatus {
  const desired = obj.spec?.replicas ?? 1;
  const ready = obj.status?.readyReplicas ?? 0;
  return {
    kind: obj.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment',
    name: obj.metadata.name,
    component: obj.metadata.labels?.['app.kubernetes.io/component'] ?? obj.metadata.name,
    desired,
    ready,
    current:
      (obj.status?.observedGeneration ?? 0) >= (obj.metadata.generation ?? 0) &&
      (obj.status?.updatedReplicas ?? 0) >= desired,
  };
}

export const allReady = (ws: readonly WorkloadStatus[]): boolean =>
  ws.length > 0 && ws.every((w) => w.current && w.ready >= w.desired);

/** "web 3/3 · db 1/3 · podwatch 2/2" */
export function describeProgress(ws: readonly WorkloadStatus[]): string {
  return ws.map((w) => `${w.component} ${w.ready}/${w.desired}${w.current ? '' : ' (rolling)'}`).join(' · ');
}

export function parseWorkloadList(json: string): WorkloadStatus[] {
  const list = JSON.parse(json) as { items: WorkloadObject[] };
  return list.items.map(workloadStatus).sort((a, b) => a.component.localeCompare(b.component));
}

/** The release's Deployments and StatefulSets as they are now (the one kubectl call around the parsing above). */
export async function releaseWorkloads(
  kubectl: string,
  kubeArgs: readonly string[],
  namespace: string,
  release: string,
): Promise<WorkloadStatus[]> {
  const out = await run(kubectl, [
    ...kubeArgs,
    '-n',
    namespace,
    'get',
    'deployments,statefulsets',
    '-l',
    `app.kubernetes.io/instance=${release}`,
    '-o',
    'json',
  ]);
  return parseWorkloadList(out.stdout);
}
