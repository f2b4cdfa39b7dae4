// helm releases through a Kube: the `helm upgrade --install` arguments (pure), and, with a stand-in helm that
// records what it was given, the namespace and cluster the Kube adds, the values file helm reads and its
// removal afterwards, also when helm fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmUninstall, helmUpgradeInstall, upgradeInstallArgs } from '../../../src/kube/helm-release.js';
import { Kube } from '../../../src/kube/kube.js';

describe('upgradeInstallArgs', () => {
  it('puts the values object after the values files (it wins), and extra arguments last', () => {
    assert.deepEqual(
      upgradeInstallArgs(
        { release: 'ws', chartDir: '/c', valuesFiles: ['a.yaml', 'b.yaml'], extraArgs: ['--take-ownership'] },
        ['-f', '/tmp/v.yaml'],
      ),
      ['upgrade', '--install', 'ws', '/c', '-f', 'a.yaml', '-f', 'b.yaml', '-f', '/tmp/v.yaml', '--take-ownership'],
    );
  });

  it('waits only when asked, 10m unless told otherwise', () => {
    assert.deepEqual(upgradeInstallArgs({ release: 'ws', chartDir: '/c' }), ['upgrade', '--install', 'ws', '/c']);
    assert.deepEqual(upgradeInstallArgs({ release: 'ws', chartDir: '/c', wait: true }).slice(4), [
      '--wait',
      '--timeout',
      '10m',
    ]);
    assert.deepEqual(upgradeInstallArgs({ release: 'ws', chartDir: '/c', wait: true, timeout: '15m' }).slice(4), [
      '--wait',
      '--timeout',
      '15m',
    ]);
    assert.deepEqual(upgradeInstallArgs({ release: 'ws', chartDir: '/c', timeout: '15m' }).slice(4), []);
  });
});

describe('helmUpgradeInstall and helmUninstall with a stand-in helm', () => {
  let dir: string;
  let kube: Kube;
  const record = (): { args: string[]; files: Record<string, string> } =>
    JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as { args: string[]; files: Record<string, string> };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kstack-fake-helm-'));
    const helm = join(dir, 'helm');
    // Records its arguments and the content of each -f file; fails, as helm does, when given --fail.
    writeFileSync(
      helm,
      `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const files = {};
args.forEach((a, i) => { if (a === '-f') files[args[i + 1]] = fs.readFileSync(args[i + 1], 'utf8'); });
fs.writeFileSync(${JSON.stringify(join(dir, 'record.json'))}, JSON.stringify({ args, files }));
if (args.includes('--fail')) { process.stderr.write('Error: UPGRADE FAILED: refused\\n'); process.exit(1); }
if (args.includes('gone')) {
  process.stderr.write('Error: uninstall: Release not loaded: gone: release: not found\\n');
  process.exit(1);
}
if (args.includes('stuck')) { process.stderr.write('Error: timed out waiting for the condition\\n'); process.exit(1); }
process.stdout.write('Release "ws" has been upgraded.\\n');
`,
    );
    chmodSync(helm, 0o755);
    kube = new Kube({
      kubectl: '/nonexistent/kubectl',
      helm,
      kubeArgs: [],
      helmArgs: ['--kubeconfig', '/k/config'],
      namespace: 'ns1',
    });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the values as a JSON file after the values files, in the Kube namespace and cluster', async () => {
    const local = join(dir, 'local.yaml');
    writeFileSync(local, 'web: {}\n');
    const out = await helmUpgradeInstall(kube, {
      release: 'ws',
      chartDir: '/c',
      valuesFiles: [local],
      values: { web: { replicaCount: 4 }, flag: 'yes' },
      wait: true,
    });
    assert.equal(out, 'Release "ws" has been upgraded.\n');
    const { args, files } = record();
    const valuesFile = args[args.lastIndexOf('-f') + 1] ?? '';
    assert.deepEqual(args, [
      '--namespace',
      'ns1',
      'upgrade',
      '--install',
      'ws',
      '/c',
      '--wait',
      '--timeout',
      '10m',
      '-f',
      local,
      '-f',
      valuesFile,
      '--kubeconfig',
      '/k/config',
    ]);
    assert.deepEqual(JSON.parse(files[valuesFile] ?? ''), { web: { replicaCount: 4 }, flag: 'yes' });
    assert.equal(existsSync(valuesFile), false, 'the values file is removed after the command');
  });

  it('without values, passes no values file', async () => {
    await helmUpgradeInstall(kube, { release: 'ws', chartDir: '/c' });
    assert.deepEqual(record().args, [
      '--namespace',
      'ns1',
      'upgrade',
      '--install',
      'ws',
      '/c',
      '--kubeconfig',
      '/k/config',
    ]);
  });

  it("throws with helm's message when helm fails, and still removes the values file", async () => {
    await assert.rejects(
      helmUpgradeInstall(kube, { release: 'ws', chartDir: '/c', values: { a: 1 }, extraArgs: ['--fail'] }),
      /UPGRADE FAILED: refused/,
    );
    const { args } = record();
    assert.equal(existsSync(args[args.indexOf('-f') + 1] ?? ''), false);
  });

  it('uninstalls and waits, in the Kube namespace and cluster', async () => {
    assert.equal(await helmUninstall(kube, 'ws'), 'removed');
    assert.deepEqual(record().args, ['--namespace', 'ns1', 'uninstall', 'ws', '--wait', '--kubeconfig', '/k/config']);
  });

  it('a release that is not there: missing when that is fine, else an error; other failures always throw', async () => {
    assert.equal(await helmUninstall(kube, 'gone', { missingOk: true }), 'missing');
    await assert.rejects(helmUninstall(kube, 'gone'), /helm uninstall gone failed: .*release: not found/);
    await assert.rejects(
      helmUninstall(kube, 'stuck', { missingOk: true }),
      /helm uninstall stuck failed: Error: timed out waiting for the condition/,
    );
  });
});
