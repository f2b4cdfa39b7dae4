// `kstack images push`: builds kstack's images (cached, src/images/build.ts) and copies each OCI layout to a
// registry with skopeo, over HTTPS with certificate checks. The password never appears on a command line:
// it goes into an auth file (0600) in a private temp folder that is removed afterwards.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../util/exec.js';
import { UserError, messageOf } from '../util/errors.js';
import { repoRoot } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { buildImage, type BuiltImage } from './build.js';
import type { PushedImage } from './push-values.js';
import type { ImageName } from './recipes.js';
import { pushTag, pushedRepository, type RegistryTarget } from './registry-target.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface PushOptions {
  target: RegistryTarget;
  images: readonly ImageName[];
  /** Without: skopeo uses the logins this machine already has (its default auth files). */
  credentials?: RegistryCredentials;
  /** PEM of the CA that signed the registry's certificate, in addition to the system's CAs. */
  caPem?: string;
  progress: Progress;
}

/** Reads --ca-file before any work: unreadable or not a PEM certificate is a UserError naming the flag. */
export function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`--ca-file ${path}: cannot read it (${messageOf(err)})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new UserError(`--ca-file ${path}: not a PEM certificate (no '-----BEGIN CERTIFICATE-----' line)`);
  return pem;
}

/** kstack's version, the first part of every pushed tag. */
export function kstackVersion(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** skopeo's files for one push: signature policy, credentials and CA, private to this process. */
interface SkopeoFiles {
  dir: string;
  args: string[];
}

function skopeoFiles(opts: PushOptions): SkopeoFiles {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-push-'));
  chmodSync(dir, 0o700);
  // Our own policy, so a host's signature policy cannot block it: accept only the local layouts we built.
  const policy = join(dir, 'policy.json');
  writeFileSync(
    policy,
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: { oci: { '': [{ type: 'insecureAcceptAnything' }] } },
    }),
  );
  const args = ['--policy', policy];
  if (opts.credentials) {
    const auth = join(dir, 'auth.json');
    const token = Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString('base64');
    writeFileSync(auth, JSON.stringify({ auths: { [opts.target.server]: { auth: token } } }), { mode: 0o600 });
    args.push('--dest-authfile', auth);
  }
  if (opts.caPem !== undefined) {
    // skopeo reads every *.crt of --dest-cert-dir as a CA, on top of the system's.
    const certs = join(dir, 'certs');
    mkdirSync(certs, { mode: 0o700 });
    writeFileSync(join(certs, 'ca.crt'), opts.caPem);
    args.push('--dest-cert-dir', certs);
  }
  return { dir, args };
}

/** skopeo's own error: the msg of its fatal log line, else its last line. */
export function skopeoError(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  const msg = /level=fatal msg="((?:[^"\\]|\\.)*)"/.exec(last)?.[1];
  return (msg ?? last).replace(/\\"/g, '"');
}

/** What the user can do about a failed push, from skopeo's error. */
function pushHint(error: string, opts: PushOptions): string {
  const server = opts.target.server;
  if (/unauthorized|authentication required|invalid username|incorrect username/i.test(error))
    return opts.credentials
      ? `registry ${server} refused the credentials: check --username and the password given on stdin`
      : `registry ${server} wants credentials: give --username and --password-stdin`;
  if (/x509|certificate|tls:/i.test(error))
    return `the certificate of registry ${server} is not trusted: pass the CA that signed it with --ca-file`;
  return `registry ${server}`;
}

async function pushOne(
  image: BuiltImage,
  repository: string,
  tag: string,
  files: SkopeoFiles,
  opts: PushOptions,
): Promise<PushedImage> {
  const digestFile = join(files.dir, `${image.name}.digest`);
  const ref = `${repository}:${tag}`;
  await opts.progress.step(`push ${image.name} to ${ref}`, async (step) => {
    const res = await run(
      'skopeo',
      ['copy', ...files.args, '--digestfile', digestFile, `oci:${image.dir}`, `docker://${ref}`],
      {
        allowFailure: true,
        onLine: (line, stream) => {
          if (stream === 'stdout' && line.trim()) step.detail(line.trim());
        },
      },
    );
    if (res.code !== 0) {
      const error = skopeoError(res.stderr || res.stdout);
      throw new UserError(`pushing ${image.name} to ${ref} failed (${pushHint(error, opts)}): ${error}`);
    }
  });
  const digest = readFileSync(digestFile, 'utf8').trim();
  if (!/^sha256:[a-f0-9]{64}$/.test(digest))
    throw new Error(`skopeo reported '${digest}' as the digest of ${ref}, which is not a sha256 digest`);
  return { name: image.name, repository, tag, digest };
}

/**
 * Builds and pushes each image, in order, and returns what the registry holds. The first failure stops the
 * push and throws (naming the image, the registry and skopeo's error); nothing is returned half done.
 */
export async function pushImages(opts: PushOptions): Promise<PushedImage[]> {
  const version = kstackVersion();
  const files = skopeoFiles(opts);
  try {
    const pushed: PushedImage[] = [];
    for (const name of opts.images) {
      const image = await buildImage(name, opts.progress);
      const repository = pushedRepository(opts.target, name);
      try {
        pushed.push(await pushOne(image, repository, pushTag(version, image.key), files, opts));
      } catch (err) {
        // Said plainly, so the images pushed before it are not taken for a finished push.
        if (err instanceof UserError && pushed.length)
          throw new UserError(
            `${err.message} (pushed before it: ${pushed.map((p) => p.name).join(', ')}; no values written)`,
          );
        throw err;
      }
    }
    return pushed;
  } finally {
    rmSync(files.dir, { recursive: true, force: true });
  }
}
