// The Helm values file `kstack images push` prints (pure): the webstack chart's image keys pointed at the
// pushed images (repository, tag and digest), the values that go with kstack's own images, and the
// monitoring image as a comment line that other commands read back.
import { stringify } from 'yaml';
import { UserError } from '../util/errors.js';
import type { ImageName } from './recipes.js';

/** One image as the registry holds it after the push. */
export interface PushedImage {
  name: ImageName;
  /** HOST[:PORT][/PREFIX]/NAME */
  repository: string;
  tag: string;
  /** The pushed manifest's digest, sha256:<64 hex>. */
  digest: string;
}

type Path = readonly string[];

/** Each image key values-local.yaml sets, and which of kstack's images it names. */
export const CHART_IMAGE_KEYS: readonly { path: Path; image: ImageName }[] = [
  { path: ['web', 'image'], image: 'nginx' },
  { path: ['web', 'metrics', 'image'], image: 'nginx' },
  { path: ['webinfo', 'image'], image: 'node' },
  { path: ['podwatch', 'image'], image: 'node' },
  { path: ['db', 'image'], image: 'mariadb' },
  { path: ['db', 'agent', 'image'], image: 'node' },
  { path: ['db', 'metrics', 'image'], image: 'mariadb' },
];

/** Values that go with kstack's images, as values-local.yaml sets them: Debian's exporters sit elsewhere. */
export const CHART_IMAGE_COMPANIONS: readonly { path: Path; image: ImageName; value: string }[] = [
  { path: ['web', 'metrics', 'binary'], image: 'nginx', value: '/usr/bin/prometheus-nginx-exporter' },
  { path: ['db', 'metrics', 'binary'], image: 'mariadb', value: '/usr/bin/prometheus-mysqld-exporter' },
];

export const MONITORING_COMMENT_PREFIX = '# kstack monitoring image: ';

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

type Values = Record<string, unknown>;

function setPath(values: Values, path: Path, value: unknown): void {
  let node = values;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Values;
  }
  node[path[path.length - 1] ?? ''] = value;
}

/** A --pull-secret name, or a UserError: it names a Secret, so a DNS label. */
export function checkPullSecretName(name: string): string {
  if (name.length > 63 || !SECRET_NAME.test(name))
    throw new UserError(
      `--pull-secret '${name}' is not a Secret name: lowercase letters, digits ` +
        `and '-', starting and ending with a letter or digit, at most 63 characters`,
    );
  return name;
}

/**
 * The chart values that make webstack run the pushed images: every image key whose image was pushed, pinned
 * by digest, pulled IfNotPresent, with its companion values; `global.imagePullSecrets` when a pull Secret is
 * named. Nothing else (placement, network, monitoring and Service settings stay the user's).
 */
export function chartValuesForPushed(pushed: readonly PushedImage[], opts: { pullSecret?: string } = {}): Values {
  const byName = new Map(pushed.map((p) => [p.name, p]));
  for (const p of pushed) if (!DIGEST.test(p.digest)) throw new Error(`${p.name}: '${p.digest}' is not a digest`);
  const values: Values = {};
  if (opts.pullSecret !== undefined) setPath(values, ['global', 'imagePullSecrets'], [opts.pullSecret]);
  for (const { path, image } of CHART_IMAGE_KEYS) {
    const p = byName.get(image);
    if (p)
      setPath(values, path, { repository: p.repository, tag: p.tag, digest: p.digest, pullPolicy: 'IfNotPresent' });
  }
  for (const { path, image, value } of CHART_IMAGE_COMPANIONS) if (byName.has(image)) setPath(values, path, value);
  return values;
}

/** The comment line that reports the monitoring image (not a chart value: kstack's monitoring runs it). */
export function monitoringImageComment(monitoring: PushedImage): string {
  return `${MONITORING_COMMENT_PREFIX}${monitoring.repository}@${monitoring.digest}`;
}

/** The monitoring image a values file written by `kstack images push` reports, or undefined when it has none. */
export function parseMonitoringImageComment(
  text: string,
): { repository: string; digest: string; ref: string } | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(MONITORING_COMMENT_PREFIX)) continue;
    const m = /^(\S+)@(sha256:[a-f0-9]{64})$/.exec(line.slice(MONITORING_COMMENT_PREFIX.length).trim());
    if (m?.[1] && m[2]) return { repository: m[1], digest: m[2], ref: `${m[1]}@${m[2]}` };
  }
  return undefined;
}

/** The whole values file: a header naming the registry, the monitoring comment, then the values as YAML. */
export function renderPushValuesFile(
  pushed: readonly PushedImage[],
  opts: { server: string; pullSecret?: string },
): string {
  const monitoring = pushed.find((p) => p.name === 'monitoring');
  const header = [
    `# Helm values for charts/webstack: the images 'kstack images push' pushed to ${opts.server}.`,
    '# Use: helm upgrade --install web charts/webstack -f THIS_FILE (image keys only; add your own values).',
    ...(monitoring ? [monitoringImageComment(monitoring)] : []),
  ];
  const values = chartValuesForPushed(pushed, opts.pullSecret !== undefined ? { pullSecret: opts.pullSecret } : {});
  // Quoted strings: helm reads YAML 1.1, where a tag of digits and an 'e' could turn into a number.
  const body = Object.keys(values).length
    ? stringify(values, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' })
    : '{}\n';
  return `${header.join('\n')}\n${body}`;
}

/** The command that creates the pull Secret the values name (the password comes from the environment, not the line). */
export function pullSecretHint(name: string, server: string, username: string | undefined): string {
  return (
    `kubectl create secret docker-registry ${name} --namespace NAMESPACE --docker-server=${server} ` +
    `--docker-username=${username ?? 'USERNAME'} --docker-password="$REGISTRY_PASSWORD"`
  );
}
