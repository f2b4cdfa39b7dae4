// The archive's storage and encryption on top of the DR core: the S3 ObjectStore (src/s3/object-store.ts) and the
// framed AES-256-GCM format (src/dr/encrypt.ts), so archived binlogs are sealed like backups are.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArchiveStore, Sealer } from './binlog-archiver.js';
import { DecryptStream, EncryptStream, type EncryptionKey } from './encrypt.js';
import type { ObjectStore } from '../s3/object-store.js';

export function s3ArchiveStore(store: ObjectStore): ArchiveStore {
  return {
    put: (key, body) => store.putBytes(key, body, 'application/octet-stream'),
    get: async (key) => ((await store.size(key)) === undefined ? undefined : store.getBytes(key)),
    list: async (prefix) => (await store.list(prefix)).map((o) => o.key),
  };
}

async function through(input: Buffer, transform: NodeJS.ReadWriteStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([input]), transform, async (source: AsyncIterable<Buffer | string>) => {
    for await (const c of source) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  });
  return Buffer.concat(chunks);
}

export function keySealer(key: EncryptionKey): Sealer {
  return {
    seal: (plain) => through(plain, new EncryptStream(key)),
    open: (sealed) => through(sealed, new DecryptStream(key, 'an archived binlog')),
  };
}
