// kstack's monitoring on a cluster kstack did not make (`kstack up --context NAME --with-monitoring`): the
// same pod as on the local cluster, with its images from the registry `kstack images push` filled. The
// values files that push printed name them: the controller runs kstack's Node.js image (webinfo.image)
// and Prometheus/Alertmanager the monitoring image, which is not a chart value and so travels as a comment.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MONITORING_COMMENT_PREFIX, parseMonitoringImageComment } from '../images/push-values.js';
import { imagePullSecretNames } from '../kube/kube.js';
import type { MonitoringImages } from '../monitoring/manifests.js';
import { UserError } from '../util/errors.js';

type Values = Record<string, unknown>;
const obj = (v: unknown): Values => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Values) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Pure: an image reference from a chart image block (repository with digest, else tag). */
export function imageRef(block: Values): string | undefined {
  const repository = str(block.repository);
  if (!repository) return undefined;
  const digest = str(block.digest);
  if (digest) return `${repository}@${digest}`;
  const tag = str(block.tag);
  return tag ? `${repository}:${tag}` : undefined;
}

/** Pure: the monitoring images from the values files' texts (a later file wins), or undefined if incomplete. */
export function monitoringImagesFromTexts(texts: readonly string[]): MonitoringImages | undefined {
  let monitoring: string | undefined;
  let controller: string | undefined;
  let pullPolicy: MonitoringImages['pullPolicy'] = 'IfNotPresent';
  let pullSecrets: string[] = [];
  for (const text of texts) {
    monitoring = parseMonitoringImageComment(text)?.ref ?? monitoring;
    const values = obj(parse(text) as unknown);
    const webinfo = obj(obj(values.webinfo).image);
    const ref = imageRef(webinfo);
    if (ref) controller = ref;
    const policy = str(webinfo.pullPolicy);
    if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') pullPolicy = policy;
    // A file that names no pull Secrets leaves those of an earlier file.
    if (Array.isArray(obj(values.global).imagePullSecrets)) pullSecrets = imagePullSecretNames(values);
  }
  return monitoring && controller ? { controller, monitoring, pullPolicy, pullSecrets } : undefined;
}

/** The monitoring images named by the -f files, or an error saying which file `--with-monitoring` needs. */
export function monitoringImagesFromValuesFiles(files: readonly string[]): MonitoringImages {
  const images = monitoringImagesFromTexts(files.map((f) => readFileSync(f, 'utf8')));
  if (!images)
    throw new UserError(
      `--with-monitoring: no values file given with -f names the monitoring ` +
        `image (a '${MONITORING_COMMENT_PREFIX.trim()} REF@DIGEST' line) ` +
        `and webinfo.image; pass the file 'kstack images push -o FILE' wrote`,
    );
  return images;
}
