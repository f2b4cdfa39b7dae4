// Whether the release's containers run without root and without added privileges: from the pod spec
// (effective securityContext: the container's over the pod's) and, where the container can show it, from
// its main process (/proc/1/status: Uid, CapEff). Also the judges of the Pod Security and non-TLS client
// checks. Pure.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

export interface ContainerRef {
  pod: string;
  container: string;
  init: boolean;
}

/** Problems with one container's effective securityContext. */
export function judgeContainerSpec(pod: V1Pod, c: V1Container): string[] {
  const who = `${pod.metadata?.name ?? '?'}/${c.name}`;
  const podSc = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
  const problems: string[] = [];
  if (runAsUser === 0) problems.push(`${who} runs as root (runAsUser 0)`);
  else if (runAsUser === undefined && runAsNonRoot !== true)
    problems.push(`${who} may run as root: neither runAsNonRoot nor a runAsUser is set`);
  if (sc.privileged === true) problems.push(`${who} is privileged`);
  if (sc.allowPrivilegeEscalation !== false) problems.push(`${who} does not set allowPrivilegeEscalation: false`);
  const added = sc.capabilities?.add ?? [];
  if (added.length) problems.push(`${who} adds capabilities ${added.join(', ')}`);
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${who} does not drop ALL capabilities`);
  return problems;
}

export interface ProcStatus {
  uid: number;
  capEff: string;
}

/** Uid (effective) and CapEff of a /proc/PID/status text; undefined when they are not there. */
export function parseProcStatus(text: string): ProcStatus | undefined {
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(text);
  const cap = /^CapEff:\s+([0-9a-f]+)/m.exec(text);
  return uid && cap ? { uid: Number(uid[1]), capEff: cap[1] ?? '' } : undefined;
}

export function judgeProcStatus(who: string, s: ProcStatus): string[] {
  const problems: string[] = [];
  if (s.uid === 0) problems.push(`${who}'s main process runs as uid 0`);
  if (!/^0+$/.test(s.capEff)) problems.push(`${who}'s main process has capabilities (CapEff ${s.capEff})`);
  return problems;
}

/** Pod Security of the release namespace: the label, a privileged pod refused, a restricted one accepted. */
export function judgePodSecurity(
  namespace: string,
  enforce: string | undefined,
  privileged: { code: number; output: string },
  restricted: { code: number; output: string },
): string[] {
  const problems: string[] = [];
  if (enforce !== 'restricted')
    problems.push(
      `namespace ${namespace} has pod-security.kubernetes.io/enforce=${enforce ?? '(none)'}, expected restricted`,
    );
  if (privileged.code === 0) problems.push(`a privileged pod (root, privileged: true) was accepted in ${namespace}`);
  else if (!/PodSecurity|violates/i.test(privileged.output))
    problems.push(`the privileged pod was refused, but not by Pod Security: ${privileged.output.trim().slice(0, 200)}`);
  if (restricted.code !== 0)
    problems.push(
      `a restricted pod was refused in ${namespace} (the check ` +
        `proves nothing): ${restricted.output.trim().slice(0, 200)}`,
    );
  return problems;
}

/** MariaDB's refusal of a client without TLS: require_secure_transport (3159) or a REQUIRE SSL account (1045). */
export const REFUSED_INSECURE = /\b(1045|3159)\b|insecure transport|require_secure_transport/i;

/** The non-TLS client must be refused and the TLS one (the CA verified) accepted. */
export function judgeClientTls(
  plain: { code: number; output: string },
  tls: { code: number; output: string } | undefined,
): string[] {
  const problems: string[] = [];
  if (plain.code === 0) problems.push('a client without TLS (mariadb --skip-ssl) was accepted by the db');
  else if (!REFUSED_INSECURE.test(plain.output))
    problems.push(`the client without TLS failed, but not as refused for insecure transport: ${plain.output.trim()}`);
  if (!tls) problems.push('webinfo has no WEBINFO_DB_TLS_CA: the db clients do not use TLS');
  else if (tls.code !== 0)
    problems.push(`the TLS client (CA verified) was refused, so the check proves nothing: ${tls.output.trim()}`);
  return problems;
}
