// `kstack images push` against a real registry: Debian's docker-registry on loopback with TLS from its own
// CA and basic auth (test/helpers/registry.ts), the real CLI (password on stdin) and the real skopeo. The
// small `pause` image keeps it fast. The registry's own API confirms the digest the command printed; a wrong
// password and a missing CA fail, naming the registry, with no values printed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../../src/util/paths.js';
import { HTPASSWD_BINARY, REGISTRY_BINARY, RegistryServer } from '../../helpers/registry.js';
import { requireFiles } from '../../helpers/require-tools.js';

const SKOPEO = '/usr/bin/skopeo';
const PREFIX = 'kstack-test';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kstack images push ARGS…` as a user runs it, with `stdin` piped in. */
function imagesPush(args: readonly string[], stdin = ''): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'images', 'push', ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      resolvePromise({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** The `pushed REPOSITORY:TAG@DIGEST` lines of the command's stderr. */
function pushedLines(stderr: string): { repository: string; tag: string; digest: string }[] {
  return [...stderr.matchAll(/^pushed (\S+):([^:@\s]+)@(sha256:[a-f0-9]{64})$/gm)].map((m) => ({
    repository: m[1] ?? '',
    tag: m[2] ?? '',
    digest: m[3] ?? '',
  }));
}

describe('kstack images push to a real registry (docker-registry, TLS, basic auth; skopeo)', () => {
  requireFiles([REGISTRY_BINARY, HTPASSWD_BINARY, SKOPEO]);
  let registry: RegistryServer | undefined;
  const reg = (): RegistryServer => {
    assert.ok(registry, 'the registry started');
    return registry;
  };
  before(async () => {
    registry = await RegistryServer.start();
  });
  after(async () => {
    await registry?.stop();
  });

  it('pushes with username, password on stdin and the CA; the registry serves the printed digest', async () => {
    const r = reg();
    const res = await imagesPush(
      [
        '--registry',
        `${r.address}/${PREFIX}`,
        '--username',
        r.username,
        '--password-stdin',
        '--ca-file',
        r.caPath,
        '--pull-secret',
        'regcred',
        'pause',
      ],
      `${r.password}\n`,
    );
    assert.equal(res.code, 0, res.stderr);
    const [pushed, ...more] = pushedLines(res.stderr);
    assert.ok(pushed, `a 'pushed' line on stderr: ${res.stderr}`);
    assert.deepEqual(more, []);
    assert.equal(pushed.repository, `${r.address}/${PREFIX}/pause`);
    assert.match(pushed.tag, /^\d+\.\d+\.\d+-[a-f0-9]{16}$/);
    assert.match(res.stderr, /^▸ push pause to /m, 'a progress line while pushing');
    assert.ok(
      res.stderr.includes(
        `kubectl create secret docker-registry regcred --namespace NAMESPACE --docker-server=` +
          `${r.address} --docker-username=${r.username} --docker-password="$REGISTRY_PASSWORD"`,
      ),
      res.stderr,
    );
    assert.ok(!res.stderr.includes(r.password) && !res.stdout.includes(r.password), 'the password is never printed');
    // pause is no chart image: the values name only the pull Secret.
    assert.match(res.stdout, /^# Helm values for charts\/webstack: /);
    assert.deepEqual(parse(res.stdout), { global: { imagePullSecrets: ['regcred'] } });

    const byTag = await r.manifest(`${PREFIX}/pause`, pushed.tag);
    assert.equal(byTag.status, 200, byTag.body);
    assert.equal(byTag.headerDigest, pushed.digest);
    assert.equal(byTag.bodyDigest, pushed.digest);
    const byDigest = await r.manifest(`${PREFIX}/pause`, pushed.digest);
    assert.equal(byDigest.status, 200);
    assert.equal(byDigest.bodyDigest, pushed.digest);
    const seen = r.requests();
    assert.ok(
      seen.some((q) => q.method === 'PUT' && q.kind === 'manifest' && q.reference === pushed.tag && q.status === 201),
      'the registry logged the manifest upload',
    );
    assert.ok(
      seen.some(
        (q) => q.method === 'GET' && q.digest === pushed.digest && q.status === 200 && q.remoteAddress === '127.0.0.1',
      ),
      'the log shows this host fetching the manifest by its digest',
    );
  });

  it('a wrong password fails, naming the image, the registry and its refusal; no values are printed', async () => {
    const r = reg();
    const res = await imagesPush(
      [
        '--registry',
        `${r.address}/${PREFIX}`,
        '--username',
        r.username,
        '--password-stdin',
        '--ca-file',
        r.caPath,
        'pause',
      ],
      'not-the-password\n',
    );
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(
      res.stderr,
      new RegExp(
        `^kstack: pushing pause to ${r.address}/${PREFIX}/pause:\\S+ failed ` +
          `\\(registry ${r.address} refused the credentials: .*unauthorized`,
        'm',
      ),
    );
    assert.ok(r.requests().some((q) => q.status === 401));
  });

  it(
    'without --ca-file the push fails on the certificate check, ' + 'never falling back to an unchecked connection',
    async () => {
      const r = reg();
      const before = r.requests().length;
      const res = await imagesPush(
        ['--registry', `${r.address}/${PREFIX}`, '--username', r.username, '--password-stdin', 'pause'],
        r.password,
      );
      assert.equal(res.code, 1);
      assert.equal(res.stdout, '');
      assert.match(
        res.stderr,
        new RegExp(
          `^kstack: pushing pause .* failed \\(the certificate of registry ${r.address} is not trusted: .*x509`,
          'm',
        ),
      );
      assert.deepEqual(r.requests().slice(before), [], 'no request reached the registry');
    },
  );
});
