// The shape every requirement row of `kstack prove` shares: what it checks, and a check that returns
// pass / fail / skipped with the reason, the evidence (commands run and what they showed), numbers
// measured and files written. Rows live one per module next to this file; run.ts runs them in order.
import type { Kube } from '../../kube/kube.js';
import type { ReleaseIntent } from './release.js';

export type RowStatus = 'pass' | 'fail' | 'skipped';

export type Measurement = number | string;

export interface RowResult {
  status: RowStatus;
  /** One sentence: why it passed, failed or was skipped. */
  reason: string;
  /** Commands run and their key output, in order. */
  evidence: string[];
  measurements: Record<string, Measurement>;
  /** Files written under the report folder (relative names). */
  artifacts: string[];
}

/** What a row's check gets: the cluster (through kubectl/helm), the release, and a place for files. */
export interface ProveContext {
  kube: Kube;
  namespace: string;
  release: string;
  /** What the release's values ask for: replicas, components on or off, placement, objectives. */
  intent: ReleaseIntent;
  /** Folder the row may write artifacts into (the report folder). */
  reportDir: string;
  /** Progress detail for long checks (one line). */
  note(text: string): void;
  /** Fails and restores whole nodes; present on kstack's local cluster only (R11 needs it). */
  nodes?: NodeControl;
  /** The cluster's Prometheus and Alertmanager (kstack's local monitoring); R12 needs them. */
  monitoring?: MonitoringEndpoints;
}

export interface MonitoringEndpoints {
  prometheusUrl: string;
  alertmanagerUrl: string;
}

/**
 * Node failures on demand: on kstack's local cluster as `kstack cluster node stop|start` makes them; on
 * any other cluster a cordon and drain through the Kubernetes API (a node taken out for maintenance).
 */
export interface NodeControl {
  /** The failure R11 makes with this control. */
  readonly fault: 'freeze' | 'drain';
  /**
   * freeze: every process of the node stopped (a hung machine); kill: all killed at once (power loss);
   * drain: cordoned and every pod evicted (PodDisruptionBudgets respected).
   */
  stop(node: string, mode: 'freeze' | 'kill' | 'drain'): Promise<void>;
  /** Brings the node back and waits until it is Ready. */
  start(node: string): Promise<void>;
}

export interface Requirement {
  /** "R1" … "R10". */
  id: string;
  title: string;
  /** What is checked and how, for the report and docs/prove.md. */
  checks: string;
  /** Changes the release while it runs (and restores it). */
  mutates: boolean;
  check(ctx: ProveContext, ev: Evidence): Promise<Verdict>;
}

/** What a check decides; the runner adds the evidence it collected. */
export type Verdict = { status: RowStatus; reason: string };

/** Collects one row's evidence, measurements and artifacts while its check runs. */
export class Evidence {
  readonly lines: string[] = [];
  readonly measurements: Record<string, Measurement> = {};
  readonly artifacts: string[] = [];
  add(line: string): void {
    this.lines.push(line);
  }
  measure(name: string, value: Measurement): void {
    this.measurements[name] = value;
  }
  artifact(name: string): void {
    this.artifacts.push(name);
  }
}

export const pass = (reason: string): Verdict => ({ status: 'pass', reason });
export const fail = (reason: string): Verdict => ({ status: 'fail', reason });
export const skipped = (reason: string): Verdict => ({ status: 'skipped', reason });

/** A list of problems found by a pure judge: empty means the requirement holds. */
export function verdictOf(problems: readonly string[], passReason: string): Verdict {
  if (problems.length === 0) return pass(passReason);
  return fail(
    problems.length === 1
      ? (problems[0] ?? '')
      : `${problems[0] ?? ''} (and ${problems.length - 1} more: see evidence)`,
  );
}
