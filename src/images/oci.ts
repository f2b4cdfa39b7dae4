import { createHash } from 'node:crypto';
import { createReadStream, linkSync, mkdirSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OciConfig {
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  workdir?: string;
  env?: Record<string, string>;
}

export interface Layer {
  /** An uncompressed tar file. */
  path: string;
  /** sha256 of the file (hex): the layer digest and its diff_id (uncompressed layers). */
  sha256: string;
  size: number;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function describeLayer(path: string): Promise<Layer> {
  return { path, sha256: await sha256File(path), size: statSync(path).size };
}

/** The OCI image config blob (pure). */
export function imageConfig(layers: readonly Layer[], cfg: OciConfig): string {
  const env = [DEFAULT_PATH, ...Object.entries(cfg.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  return JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {
      Env: env,
      ...(cfg.entrypoint ? { Entrypoint: cfg.entrypoint } : {}),
      ...(cfg.cmd ? { Cmd: cfg.cmd } : {}),
      ...(cfg.user ? { User: cfg.user } : {}),
      ...(cfg.workdir ? { WorkingDir: cfg.workdir } : {}),
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${l.sha256}`) },
    history: layers.map(() => ({ created_by: 'kstack images build' })),
  });
}

/** The OCI manifest blob (pure). */
export function imageManifest(config: { sha256: string; size: number }, layers: readonly Layer[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${config.sha256}`,
      size: config.size,
    },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: `sha256:${l.sha256}`,
      size: l.size,
    })),
  });
}

/**
 * Writes an OCI image layout folder (oci-layout, index.json, blobs/) for one image named `ref`. Layers
 * are hard-linked from the cache (copied if on another filesystem), so this is cheap for large layers.
 */
export function writeOciLayout(
  dir: string,
  ref: string,
  layers: readonly Layer[],
  cfg: OciConfig,
): { manifestDigest: string } {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const putBlob = (text: string): { sha256: string; size: number } => {
    const sha256 = createHash('sha256').update(text).digest('hex');
    writeFileSync(join(blobs, sha256), text);
    return { sha256, size: Buffer.byteLength(text) };
  };
  for (const layer of layers) {
    const target = join(blobs, layer.sha256);
    try {
      linkSync(layer.path, target);
    } catch {
      copyFileSync(layer.path, target);
    }
  }
  const config = putBlob(imageConfig(layers, cfg));
  const manifest = putBlob(imageManifest(config, layers));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${manifest.sha256}`,
          size: manifest.size,
          annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag },
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    }),
  );
  return { manifestDigest: `sha256:${manifest.sha256}` };
}
