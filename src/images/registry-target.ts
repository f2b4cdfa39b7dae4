// Where `kstack images push` puts the images (pure): the --registry argument HOST[:PORT][/PREFIX], checked
// before anything runs, and the repository and reference each image gets there.
import { UserError } from '../util/errors.js';

export interface RegistryTarget {
  /** Host name or IPv4 address, lowercase. */
  host: string;
  port?: number;
  /** Path under the registry ('' for none), e.g. 'team/kstack'. */
  prefix: string;
  /** HOST[:PORT]: what credentials, certificates and `kubectl create secret --docker-server` are keyed by. */
  server: string;
}

const FORM = "use HOST[:PORT][/PREFIX], e.g. 'registry.example:5000/team'";
const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const HOST = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
// One path component of a reference: lowercase letters and digits, joined by '.', '_', '__' or dashes.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

const refuse = (text: string, why: string): UserError => new UserError(`--registry '${text}': ${why}; ${FORM}`);

function parsePort(text: string, port: string): number {
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535) throw refuse(text, `port '${port}' is not a number from 1 to 65535`);
  return n;
}

function parsePrefix(text: string, path: string): string {
  const parts = path.replace(/\/$/, '').split('/');
  const bad = parts.find((p) => !COMPONENT.test(p));
  if (bad !== undefined)
    throw refuse(
      text,
      `path part '${bad}' is not allowed: lowercase letters and ` +
        `digits, separated by '.', '_' or '-' (and '/' between parts)`,
    );
  return parts.join('/');
}

/** The --registry argument, or a UserError naming the flag and what it allows. */
export function parseRegistryTarget(text: string): RegistryTarget {
  if (text === '') throw refuse(text, 'it is empty');
  if (text.includes('://')) throw refuse(text, 'no scheme: the push always uses HTTPS with certificate checks');
  const slash = text.indexOf('/');
  const hostPort = slash < 0 ? text : text.slice(0, slash);
  const path = slash < 0 ? '' : text.slice(slash + 1);
  const [host = '', port, extra] = hostPort.split(':');
  if (extra !== undefined) throw refuse(text, `'${hostPort}' has more than one ':' (IPv6 addresses are not supported)`);
  if (!HOST.test(host))
    throw refuse(text, `host '${host}' is not a lowercase host name or IPv4 address (letters, digits, '-' and '.')`);
  const portNumber = port === undefined ? undefined : parsePort(text, port);
  const prefix = path === '' ? '' : parsePrefix(text, path);
  return {
    host,
    ...(portNumber !== undefined ? { port: portNumber } : {}),
    prefix,
    server: portNumber === undefined ? host : `${host}:${portNumber}`,
  };
}

/** The repository image `name` gets under the target: HOST[:PORT][/PREFIX]/NAME. */
export function pushedRepository(target: RegistryTarget, name: string): string {
  return [target.server, target.prefix, name].filter(Boolean).join('/');
}

/**
 * The tag an image is pushed under: kstack's version and the image's build key (src/images/build.ts), which
 * changes whenever anything that goes into the image changes, so a new content never reuses a tag.
 */
export function pushTag(kstackVersion: string, buildKey: string): string {
  return `${kstackVersion}-${buildKey}`;
}
