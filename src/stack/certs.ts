// `kstack db rotate-certs`: renews the db's server certificate without downtime. The chart issues a new one
// from its CA when db.tls.rotation goes above the live certificate's generation; the StatefulSet then
// restarts the members one by one under the PodDisruptionBudget, each waiting for the previous to be Synced
// (readiness). Clients trust the CA, not the certificate, so they never notice. Afterwards every member is
// asked, over TLS, which certificate it serves.
import { X509Certificate } from 'node:crypto';
import type { V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { webstackChartDir } from '../chart/helm.js';
import { componentSelector, releaseValues, type Kube, type List } from '../kube/kube.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';

/** The annotation of the chart's TLS Secret that holds the certificate's generation (templates/db/secret-tls.yaml). */
export const ROTATION_ANNOTATION = 'webstack.kstack.io/tls-rotation';

export interface CertSummary {
  serial: string;
  notAfter: string;
}

export interface RotateResult {
  statefulSet: string;
  rotation: number;
  before: CertSummary;
  after: CertSummary;
  /** Each member and the serial of the certificate it serves after the rollout. */
  members: { pod: string; serial: string }[];
  seconds: number;
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Pure: the release's TLS settings from its values; refuses a release without db TLS, saying how to turn it on. */
export function tlsSettingsOf(values: Record<string, unknown>): { existingSecret: string; rotation: number } {
  const db = obj(values.db);
  const tls = obj(db.tls);
  if (db.enabled === false) throw new UserError('the release has no database (db.enabled=false): nothing to rotate');
  if (tls.enabled === false)
    throw new UserError(
      'db.tls.enabled is false: the db serves no certificate; turn TLS on (db.tls.enabled=true, the default) first',
    );
  const rotation = typeof tls.rotation === 'number' ? tls.rotation : 0;
  return { existingSecret: typeof tls.existingSecret === 'string' ? tls.existingSecret : '', rotation };
}

/** Pure: the generation to ask for, above both the values' and the live Secret's. */
export function nextRotation(valuesRotation: number, liveAnnotation: string | undefined): number {
  const live = Number(liveAnnotation ?? '0');
  return Math.max(valuesRotation, Number.isInteger(live) ? live : 0) + 1;
}

/** Pure: serial and expiry of a PEM certificate. */
export function certSummary(pem: string): CertSummary {
  const c = new X509Certificate(pem);
  return { serial: c.serialNumber.toUpperCase(), notAfter: new Date(c.validTo).toISOString() };
}

/** Pure: the serial in `openssl x509 -noout -serial` output ("serial=0A1B…"). */
export function parseSerial(text: string): string | undefined {
  return /serial=([0-9A-Fa-f]+)/.exec(text)?.[1]?.toUpperCase();
}

const pemOf = (s: V1Secret, key: string): string => Buffer.from(s.data?.[key] ?? '', 'base64').toString('utf8');

async function dbStatefulSet(kube: Kube, release: string): Promise<V1StatefulSet> {
  const list = await kube.json<List<V1StatefulSet>>(['get', 'statefulset', '-l', componentSelector(release, 'db')]);
  const sts = list.items[0];
  if (!sts?.metadata?.name)
    throw new UserError(
      `no db StatefulSet of release '${release}' in namespace '${kube.namespace}'; give --release and --namespace`,
    );
  return sts;
}

/** The serial of the certificate a member serves on its SQL port, asked over TLS from inside its pod. */
async function servedSerial(kube: Kube, pod: string, port: number): Promise<string> {
  const res = await kube.exec(pod, 'mariadb', [
    'sh',
    '-c',
    `openssl s_client -starttls mysql -connect 127.0.0.1:${port} </dev/null 2>/dev/null | openssl x509 -noout -serial`,
  ]);
  return parseSerial(res.stdout) ?? `unreadable (${(res.stderr || res.stdout).trim().slice(0, 120)})`;
}

export async function rotateDbCerts(kube: Kube, release: string, progress: Progress): Promise<RotateResult> {
  const started = performance.now();
  const settings = tlsSettingsOf(await releaseValues(kube, release));
  const sts = await dbStatefulSet(kube, release);
  const stsName = sts.metadata?.name ?? '';
  const secretName = settings.existingSecret || `${stsName}-tls`;
  const before = await kube.json<V1Secret>(['get', 'secret', secretName]);
  const rotation = nextRotation(settings.rotation, before.metadata?.annotations?.[ROTATION_ANNOTATION]);
  await progress.step(`helm upgrade ${release}: db.tls.rotation=${rotation} (a new server certificate)`, () =>
    kube.helm(['upgrade', release, webstackChartDir, '--reuse-values', '--set', `db.tls.rotation=${rotation}`], {
      timeoutMs: 300_000,
    }),
  );
  await progress.step(`members restart one by one (statefulset ${stsName})`, async (step) => {
    step.detail('kubectl rollout status');
    await kube.kubectl(['rollout', 'status', `statefulset/${stsName}`, '--timeout=1200s'], {
      timeoutMs: 1_230_000,
    });
  });
  const after = await kube.json<V1Secret>(['get', 'secret', secretName]);
  const port =
    sts.spec?.template.spec?.containers.find((c) => c.name === 'mariadb')?.ports?.find((p) => p.name === 'mysql')
      ?.containerPort ?? 3306;
  const replicas = sts.spec?.replicas ?? 0;
  const members = await progress.step('ask every member which certificate it serves', async () => {
    const out: RotateResult['members'] = [];
    for (let i = 0; i < replicas; i++) {
      const pod = `${stsName}-${i}`;
      out.push({ pod, serial: await servedSerial(kube, pod, port) });
    }
    return out;
  });
  const result: RotateResult = {
    statefulSet: stsName,
    rotation,
    before: certSummary(pemOf(before, 'tls.crt')),
    after: certSummary(pemOf(after, 'tls.crt')),
    members,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  const stale = members.filter((m) => m.serial !== result.after.serial);
  if (!settings.existingSecret && result.after.serial === result.before.serial)
    throw new UserError(`the certificate in Secret ${secretName} did not change (serial ${result.after.serial})`);
  if (stale.length > 0)
    throw new UserError(
      `${stale.map((m) => `${m.pod} serves ${m.serial}`).join(', ')}, ` +
        `not the new certificate ${result.after.serial}; see 'kubectl ` +
        `-n ${kube.namespace} rollout status statefulset/${stsName}'`,
    );
  return result;
}
