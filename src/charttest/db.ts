// The `db-status` and `db-closed` tests' judgement (pure): what one member reported, what one probe saw,
// and the verdicts.

/** The status variables db-status asks every member for (SHOW GLOBAL STATUS needs no privilege). */
export const STATUS_VARIABLES = ['wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_cluster_size'] as const;

export interface StatusRow {
  Variable_name: string;
  Value: string;
}

/** What one member answered: its @@hostname and the status rows; or why it did not answer. */
export type MemberAnswer = { host: string; status: readonly StatusRow[] } | { error: string };

export interface MemberJudgement {
  member: string;
  ok: boolean;
  /** One line: what the member reported, or why it fails. */
  line: string;
}

/** The pod a member's stable name belongs to: its first label (ws-webstack-db-0 of ws-webstack-db-0.ws-…). */
export function podOfMember(member: string): string {
  return member.split('.')[0] ?? member;
}

/**
 * One member, judged. Galera: Primary, Synced, cluster size = the members the chart runs, and the answer
 * came from that member's own pod. Standalone: it answers, from its pod.
 */
export function judgeMember(
  member: string,
  answer: MemberAnswer,
  mode: 'galera' | 'standalone',
  expectedSize: number,
): MemberJudgement {
  if ('error' in answer) return { member, ok: false, line: `no answer: ${answer.error}` };
  const pod = podOfMember(member);
  if (answer.host !== pod)
    return { member, ok: false, line: `answered by @@hostname '${answer.host}', not by pod ${pod}` };
  if (mode === 'standalone') return { member, ok: true, line: `answers (standalone, @@hostname ${answer.host})` };
  const s = new Map(answer.status.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const status = s.get('wsrep_cluster_status') ?? '(none)';
  const state = s.get('wsrep_local_state_comment') ?? '(none)';
  const sizeText = s.get('wsrep_cluster_size') ?? '(none)';
  const seen = `wsrep_cluster_status=${status} wsrep_local_state_comment=${state} wsrep_cluster_size=${sizeText}`;
  const wrong: string[] = [];
  if (status !== 'Primary') wrong.push('not in the Primary component');
  if (state !== 'Synced') wrong.push('not Synced');
  if (Number(sizeText) !== expectedSize) wrong.push(`cluster size is not ${expectedSize}`);
  return wrong.length === 0
    ? { member, ok: true, line: seen }
    : { member, ok: false, line: `${seen}: ${wrong.join(', ')}` };
}

export function dbVerdict(judged: readonly MemberJudgement[], expected: number): { ok: boolean; summary: string } {
  const good = judged.filter((j) => j.ok).length;
  if (judged.length !== expected)
    return { ok: false, summary: `${judged.length} member(s) judged, ${expected} expected` };
  if (good === expected) return { ok: true, summary: `all ${expected} member(s) Primary, Synced, size ${expected}` };
  const failed = judged.filter((j) => !j.ok);
  const bad = failed.map((j) => `${podOfMember(j.member)}: ${j.line}`);
  // kube-router rejects what no policy admits (ECONNREFUSED); others drop it (a timeout).
  const hint =
    good === 0 && failed.every((j) => /ECONNREFUSED|ETIMEDOUT|timeout/i.test(j.line))
      ? " (no member let this pod in: mariadbd is down, or the NetworkPolicy engine has not admitted this pod's label)"
      : '';
  return { ok: false, summary: `${good} of ${expected} member(s) good; ${bad.join('; ')}${hint}` };
}

/** What a TCP connection attempt came to. */
export type ProbeOutcome = 'connected' | 'timeout' | 'refused' | 'unreachable' | 'error';

/** Node's socket error codes → the outcome. */
export function outcomeOf(code: string | undefined): ProbeOutcome {
  switch (code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return 'error';
  }
}

export interface ClosedProbe {
  member: string;
  /** The member's address, or null when its name did not resolve. */
  address: string | null;
  port: number;
  outcome: ProbeOutcome | 'unresolved';
  detail: string;
}

export interface ControlProbe {
  target: string;
  outcome: ProbeOutcome | 'unresolved';
  detail: string;
}

/**
 * db-closed: pass only when every member resolved (the pod's DNS works and the members exist), no member
 * port accepted a connection, and the positive control (when there is one) connected: a pod whose network
 * is simply broken must not pass as "closed".
 */
export function closedVerdict(
  probes: readonly ClosedProbe[],
  control: ControlProbe | null,
): { ok: boolean; summary: string } {
  if (probes.length === 0) return { ok: false, summary: 'nothing was probed' };
  const unresolved = [...new Set(probes.filter((p) => p.outcome === 'unresolved').map((p) => p.member))];
  if (unresolved.length > 0)
    return {
      ok: false,
      summary:
        `cannot judge: ${unresolved.map(podOfMember).join(', ')} ` + `did not resolve (DNS or the members are missing)`,
    };
  if (control && control.outcome !== 'connected')
    return {
      ok: false,
      summary:
        `cannot judge: the positive control ${control.target} did not connect ` +
        `(${control.outcome}: ${control.detail}); this pod's network is broken, not proven closed`,
    };
  const open = probes.filter((p) => p.outcome === 'connected');
  if (open.length > 0)
    return {
      ok: false,
      summary:
        'reachable from a pod the db NetworkPolicy does not admit: ' +
        open.map((p) => `${podOfMember(p.member)}:${p.port}`).join(', ') +
        ' (is a NetworkPolicy engine enforcing?)',
    };
  const members = new Set(probes.map((p) => p.member)).size;
  const ports = [...new Set(probes.map((p) => p.port))].join(', ');
  return {
    ok: true,
    summary:
      `${members} member(s) closed ` +
      `on ${ports}${control ? `; control ${control.target} open` : '; no control configured'}`,
  };
}
