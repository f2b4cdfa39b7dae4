// The framed AES-256-GCM format: round trips, and every kind of damage is detected with a clear error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DecryptStream,
  EncryptStream,
  HEADER_BYTES,
  FRAME_OVERHEAD,
  encryptedSize,
  keyIdOf,
  parseKey,
  type EncryptionKey,
} from '../../../src/dr/encrypt.js';

const key = (): EncryptionKey => parseKey(randomBytes(32), 'test key');

async function collect(source: Readable, through: NodeJS.ReadWriteStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(source, through, async (src: AsyncIterable<string | Buffer>) => {
    for await (const c of src) chunks.push(Buffer.from(c));
  });
  return Buffer.concat(chunks);
}

/** Splits data into uneven chunks, as a network would. */
function chunked(data: Buffer): Readable {
  const parts: Buffer[] = [];
  for (let i = 0, n = 1; i < data.length; i += n, n = ((n * 7 + 13) % 5000) + 1) parts.push(data.subarray(i, i + n));
  return Readable.from(parts);
}

const encrypt = (k: EncryptionKey, data: Buffer, frame = 4096): Promise<Buffer> =>
  collect(chunked(data), new EncryptStream(k, frame));
const decrypt = (k: EncryptionKey, data: Buffer): Promise<Buffer> =>
  collect(chunked(data), new DecryptStream(k, 'backup X'));

describe('framed AES-256-GCM', () => {
  for (const size of [0, 1, 4095, 4096, 4097, 3 * 4096, 50_000]) {
    it(`round-trips ${size} bytes and has the documented size`, async () => {
      const k = key();
      const plain = randomBytes(size);
      const enc = await encrypt(k, plain);
      assert.equal(enc.length, encryptedSize(size, 4096));
      assert.deepEqual(await decrypt(k, enc), plain);
    });
  }

  it('never repeats ciphertext for the same input (fresh salt per object)', async () => {
    const k = key();
    const plain = Buffer.alloc(10_000, 7);
    assert.notDeepEqual(await encrypt(k, plain), await encrypt(k, plain));
  });

  it('rejects a flipped byte anywhere in a frame', async () => {
    const k = key();
    const enc = await encrypt(k, randomBytes(20_000));
    for (const at of [HEADER_BYTES + 10, HEADER_BYTES + 4096 + FRAME_OVERHEAD + 100, enc.length - 1]) {
      const bad = Buffer.from(enc);
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      await assert.rejects(decrypt(k, bad), /corrupted|tampered/);
    }
  });

  it('rejects a flipped byte in the header (salt is authenticated)', async () => {
    const k = key();
    const enc = await encrypt(k, randomBytes(5000));
    const bad = Buffer.from(enc);
    bad[30] = (bad[30] ?? 0) ^ 0x80;
    await assert.rejects(decrypt(k, bad), /failed authentication/);
  });

  it('rejects a truncated object: whole frames dropped, or cut inside a frame', async () => {
    const k = key();
    const enc = await encrypt(k, randomBytes(20_000));
    const oneFrame = 4096 + FRAME_OVERHEAD;
    await assert.rejects(decrypt(k, enc.subarray(0, HEADER_BYTES + 2 * oneFrame)), /truncated/);
    await assert.rejects(decrypt(k, enc.subarray(0, enc.length - 3)), /truncated/);
    await assert.rejects(decrypt(k, enc.subarray(0, 10)), /truncated/);
  });

  it('rejects reordered frames and bytes appended after the final frame', async () => {
    const k = key();
    const enc = await encrypt(k, randomBytes(3 * 4096 + 10));
    const f = 4096 + FRAME_OVERHEAD;
    const h = enc.subarray(0, HEADER_BYTES);
    const frames = [0, 1, 2, 3].map((i) => enc.subarray(HEADER_BYTES + i * f, HEADER_BYTES + (i + 1) * f));
    const swapped = Buffer.concat([h, frames[1]!, frames[0]!, frames[2]!, frames[3]!]);
    await assert.rejects(decrypt(k, swapped), /failed authentication at frame 0/);
    await assert.rejects(decrypt(k, Buffer.concat([enc, Buffer.from('x')])), /after its final frame/);
  });

  it('names a wrong key by key id, and fails a forged key id by authentication', async () => {
    const k1 = key();
    const k2 = key();
    const enc = await encrypt(k1, randomBytes(1000));
    await assert.rejects(decrypt(k2, enc), new RegExp(`key id ${k1.id}.*${k2.id}.*wrong encryption key`));
    const forged = Buffer.from(enc);
    Buffer.from(k2.id, 'hex').copy(forged, 16);
    await assert.rejects(decrypt(k2, forged), /failed authentication/);
  });

  it('fails the stream instead of sealing it when the producer failed', async () => {
    const k = key();
    const enc = new EncryptStream(k, 4096, () => Promise.reject(new Error('mariadb-dump exited with code 2')));
    await assert.rejects(collect(Readable.from([Buffer.alloc(100)]), enc), /exited with code 2/);
  });
});

describe('encryption keys', () => {
  const raw = Buffer.alloc(32, 0xab);
  it('accepts 32 raw bytes, 64 hex characters and base64, all the same key', () => {
    const a = parseKey(raw, 'f');
    assert.deepEqual(parseKey(Buffer.from(`${raw.toString('hex')}\n`), 'f'), a);
    assert.deepEqual(parseKey(Buffer.from(raw.toString('base64')), 'f'), a);
    assert.equal(a.id, keyIdOf(raw));
    assert.match(a.id, /^[0-9a-f]{16}$/);
  });
  it('refuses anything else, naming the field', () => {
    assert.throws(() => parseKey(Buffer.from('short'), 'KSTACK_DR_KEY_FILE'), /KSTACK_DR_KEY_FILE: .*32 bytes/);
    assert.throws(() => parseKey(Buffer.alloc(31), 'k'), /got 31 bytes/);
  });
});
