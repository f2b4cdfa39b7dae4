import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildKey, compareVersions } from '../../../src/setup/go-build.js';
import { goComponents, versionLdflags } from '../../../src/setup/go-components.js';
import { npmIntegrity } from '../../../src/setup/kubectl-layer.js';
import { goDirective, readGoMod, readGoSum, requiredVersion } from '../../../src/setup/versions.js';

describe('pins', () => {
  const goMod = readGoMod('kubernetes');

  it('reads versions from go.mod', () => {
    assert.match(requiredVersion(goMod, 'k8s.io/kubernetes') ?? '', /^v1\.\d+\.\d+$/);
    assert.equal(
      requiredVersion('require (\n\tgo.etcd.io/etcd/server/v3 v3.6.5 // indirect\n)', 'go.etcd.io/etcd/server/v3'),
      'v3.6.5',
    );
    assert.equal(requiredVersion(goMod, 'example.com/absent'), undefined);
    assert.match(goDirective(goMod) ?? '', /^1\.\d+/);
  });

  it('replaces every k8s.io staging module with the version matching k8s.io/kubernetes', () => {
    const k8s = requiredVersion(goMod, 'k8s.io/kubernetes') ?? '';
    const staging = `v0.${k8s.slice(3)}`;
    const replaces = [...goMod.matchAll(/^\s*(k8s\.io\/[\w-]+) => (k8s\.io\/[\w-]+) (v\S+)$/gm)];
    assert.ok(replaces.length >= 25, 'the staging modules are all replaced');
    for (const [, from, to, version] of replaces) {
      assert.equal(from, to);
      assert.equal(version, staging, `${from ?? ''} must be ${staging}`);
    }
  });

  it('builds every upstream component from a module that its go.mod lists as a tool', () => {
    for (const c of Object.values(goComponents)) {
      const mod = readGoMod(c.module);
      if (c.pkg.startsWith('kstack.local/')) continue; // our own code, not a pinned dependency
      assert.match(
        mod,
        new RegExp(`^\\s*(tool\\s+)?${c.pkg.replace(/[.]/g, '\\.')}\\s*$`, 'm'),
        `${c.pkg} is a tool in tools/${c.module}/go.mod`,
      );
    }
  });

  it('stamps the Kubernetes version like the release build', () => {
    const flags = versionLdflags('v1.35.4');
    assert.ok(flags.includes('-X k8s.io/component-base/version.gitVersion=v1.35.4'));
    assert.ok(flags.includes('-X k8s.io/component-base/version.gitMinor=35'));
    assert.throws(() => versionLdflags('1.35'), /not a Kubernetes version/);
  });

  it('keys the cache on the pins, not on the Go version', () => {
    const sum = readGoSum('kubernetes');
    assert.equal(buildKey(goMod, sum, 'x64'), buildKey(goMod, sum, 'x64'));
    assert.notEqual(buildKey(goMod, sum, 'x64'), buildKey(`${goMod}\n`, sum, 'x64'));
    assert.notEqual(buildKey(goMod, sum, 'x64'), buildKey(goMod, sum, 'arm64'));
    // A module's own Go source is part of the key; a module without any keeps its old key.
    assert.equal(buildKey(goMod, sum, 'x64', ''), buildKey(goMod, sum, 'x64'));
    assert.notEqual(
      buildKey(goMod, sum, 'x64', 'main.go\0package main'),
      buildKey(goMod, sum, 'x64', 'main.go\0package main // changed'),
    );
  });

  it('compares versions numerically', () => {
    assert.ok(compareVersions('1.26.8', '1.25.0') > 0);
    assert.ok(compareVersions('1.9', '1.25') < 0);
    assert.equal(compareVersions('1.25', '1.25.0'), 0);
  });

  it('computes npm integrity strings', () => {
    assert.equal(
      npmIntegrity(Buffer.from('')),
      'sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==',
    );
  });
});
