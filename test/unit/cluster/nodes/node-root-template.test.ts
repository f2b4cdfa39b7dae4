// The images imported once and hard-linked into each new node (node-root-template.ts): which files are shared,
// the template's identity, and a seeded root on a real file system (a template of plain files: no containerd).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mayShare, seedNodeRoot, templateKey, withImages } from '../../../../src/cluster/nodes/node-root-template.js';
import type { ImageName } from '../../../../src/images/recipes.js';

const BLOB = 'io.containerd.content.v1.content/blobs/sha256/ab12';
const LAYER_FILE = 'io.containerd.snapshotter.v1.overlayfs/snapshots/7/fs/usr/bin/env';
const META = 'io.containerd.metadata.v1.bolt/meta.db';
const SNAP_META = 'io.containerd.snapshotter.v1.overlayfs/metadata.db';

describe('node root template', () => {
  it('shares content blobs and committed layer files, and copies the metadata databases', () => {
    assert.equal(mayShare(BLOB), true);
    assert.equal(mayShare(LAYER_FILE), true);
    assert.equal(mayShare('io.containerd.snapshotter.v1.overlayfs/snapshots/7/fs/'), true);
    for (const path of [
      META,
      SNAP_META,
      'io.containerd.snapshotter.v1.overlayfs/snapshots/7/work/x',
      'io.containerd.content.v1.content/ingest/ref/data',
    ])
      assert.equal(mayShare(path), false, path);
  });

  it('is a new template when containerd or any image changes, whatever the order of the images', () => {
    const images = [
      { name: 'pause' as const, ref: 'kstack.local/pause:local', key: 'k1' },
      { name: 'nginx' as const, ref: 'kstack.local/nginx:local', key: 'k2' },
    ];
    const key = templateKey('containerd 1.6', images);
    assert.match(key, /^[0-9a-f]{16}$/);
    assert.equal(templateKey('containerd 1.6', [...images].reverse()), key);
    assert.notEqual(templateKey('containerd 1.7', images), key);
    assert.notEqual(templateKey('containerd 1.6', [images[0]!, { ...images[1]!, key: 'k3' }]), key);
    assert.notEqual(templateKey('containerd 1.6', [images[0]!]), key);
  });

  it("adds the images another list names that the cluster's own do not, the cluster's first", () => {
    const merged = withImages<{ name: ImageName; key: string }>(
      [
        { name: 'pause', key: 'a' },
        { name: 'nginx', key: 'b' },
      ],
      [
        { name: 'nginx', key: 'other' },
        { name: 'mariadb', key: 'c' },
      ],
    );
    assert.deepEqual(merged, [
      { name: 'pause', key: 'a' },
      { name: 'nginx', key: 'b' },
      { name: 'mariadb', key: 'c' },
    ]);
  });

  it('seeds a new node: shared files are the same inode, databases are copies of their own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-root-template-'));
    try {
      const root = join(dir, 'template', 'root');
      for (const [path, text] of [
        [BLOB, 'blob'],
        [LAYER_FILE, '#!/bin/sh'],
        [META, 'meta'],
        [SNAP_META, 'snapshots'],
      ] as const) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      }
      mkdirSync(join(root, 'io.containerd.snapshotter.v1.overlayfs/snapshots/7/work'), { recursive: true });
      const nodeRoot = join(dir, 'node', 'containerd');
      mkdirSync(nodeRoot, { recursive: true }); // the node's files step makes it, empty
      assert.equal(await seedNodeRoot({ root, images: [] }, nodeRoot), true);
      for (const path of [BLOB, LAYER_FILE])
        assert.equal(statSync(join(nodeRoot, path)).ino, statSync(join(root, path)).ino, `${path} is linked`);
      for (const path of [META, SNAP_META]) {
        assert.notEqual(statSync(join(nodeRoot, path)).ino, statSync(join(root, path)).ino, `${path} is copied`);
        writeFileSync(join(nodeRoot, path), 'changed by the node');
      }
      assert.equal(readFileSync(join(root, META), 'utf8'), 'meta', "a node's database change stays in the node");
      assert.equal(readFileSync(join(root, SNAP_META), 'utf8'), 'snapshots');
      assert.equal(
        statSync(join(nodeRoot, 'io.containerd.snapshotter.v1.overlayfs/snapshots/7/work')).isDirectory(),
        true,
      );
      // Removing the node (cluster down) leaves the template whole.
      rmSync(join(dir, 'node'), { recursive: true });
      assert.equal(readFileSync(join(root, BLOB), 'utf8'), 'blob');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
