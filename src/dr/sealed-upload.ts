// The tail every backup kind shares: a compressed stream → AES-256-GCM frames → byte count and sha256 →
// multipart upload. A producer that fails (its `beforeFinal` rejects) fails the stream instead of sealing a
// complete-looking object, and the upload is aborted.
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EncryptStream, type EncryptionKey } from './encrypt.js';
import type { ObjectStore } from '../s3/object-store.js';

/** Counts bytes and hashes what passes through. */
class HashCount extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface SealedUploadOptions {
  store: ObjectStore;
  objectKey: string;
  key: EncryptionKey;
  frameBytes: number;
  /** Runs before the final frame is sealed; rejecting fails the upload (see EncryptStream). */
  beforeFinal: () => Promise<void>;
  /** Transforms the compressed bytes pass through before encryption (e.g. one that keeps the head). */
  stages?: Transform[];
  partSize?: number;
  onUploaded?: (bytes: number) => void;
}

/** What was stored: its size and sha256 (the manifest records both). */
export interface SealedObject {
  bytes: number;
  sha256: string;
}

/** Encrypts `compressed` and uploads it to `objectKey`; rejects (upload aborted) when anything fails. */
export async function uploadSealed(compressed: Readable, o: SealedUploadOptions): Promise<SealedObject> {
  const enc = new EncryptStream(o.key, o.frameBytes, o.beforeFinal);
  const tap = new HashCount();
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  const chain = pipeline([compressed, ...(o.stages ?? []), enc, tap, body]);
  chain.catch(() => undefined);
  try {
    // A chain that fails before the upload notices (a producer's error) must end the wait too.
    const failedChain = chain.then(() => new Promise<never>(() => undefined));
    await Promise.race([
      o.store.putStream(o.objectKey, body, { partSize: o.partSize, onProgress: o.onUploaded }),
      failedChain,
    ]);
    await chain;
  } catch (err) {
    body.destroy();
    throw err;
  }
  return { bytes: tap.bytes, sha256: tap.digest() };
}
