// Streaming client-side encryption of backups: AES-256-GCM in framed chunks.
//
// Layout of an encrypted object:
//   header (40 bytes): magic "KSTKDR01" | version u8 (1) | 3 reserved zero bytes | frame size u32 BE |
//                      key id (8 bytes: first 8 bytes of sha256(key)) | salt (16 random bytes)
//   frames:            flags u8 (bit 0 = final) | plaintext length u32 BE | ciphertext | GCM tag (16 bytes)
//
// Each object gets its own data key, HKDF-SHA256(master key, salt, "kstack-dr frame key v1"), so nonces
// never repeat across objects; inside an object the nonce is the frame index (12 bytes, big-endian).
// Every frame authenticates, as additional data, the whole header, its index, its flags and its length:
// reordered or dropped frames fail (wrong index), a cut-off object fails (no final frame), bytes after
// the final frame fail, any flipped bit fails, and a different key is named by its key id before any
// decryption is attempted.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { UserError } from '../util/errors.js';

export const MAGIC = Buffer.from('KSTKDR01', 'ascii');
export const HEADER_BYTES = 40;
export const FRAME_OVERHEAD = 1 + 4 + 16;
export const DEFAULT_FRAME_BYTES = 1024 * 1024;
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const TAG_BYTES = 16;
const FLAG_FINAL = 1;

/** A 32-byte master key and its id (hex of the first 8 bytes of its sha256), which manifests record. */
export interface EncryptionKey {
  key: Buffer;
  id: string;
}

/** The id of a key: what the manifest and the object header record, never the key itself. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('hex');
}

/**
 * Reads a key from what a key file or Secret holds: 32 raw bytes, or (trimmed) 64 hex characters, or
 * base64 of 32 bytes. `field` names where it came from in errors.
 */
export function parseKey(data: Buffer, field: string): EncryptionKey {
  const make = (key: Buffer): EncryptionKey => ({ key, id: keyIdOf(key) });
  const text = data.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return make(Buffer.from(text, 'hex'));
  if (/^[A-Za-z0-9+/]{43}=?$/.test(text)) {
    const b = Buffer.from(text, 'base64');
    if (b.length === 32) return make(b);
  }
  if (data.length === 32) return make(Buffer.from(data));
  throw new UserError(
    `${field}: an encryption key must be 32 bytes (raw), 64 hex characters or base64 ` +
      `of 32 bytes; got ${data.length} bytes. Make one with: head -c 32 /dev/urandom > key`,
  );
}

function dataKey(master: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, salt, 'kstack-dr frame key v1', 32));
}

function nonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

function aad(header: Buffer, index: number, flags: number, length: number): Buffer {
  const a = Buffer.alloc(header.length + 8 + 1 + 4);
  header.copy(a, 0);
  a.writeBigUInt64BE(BigInt(index), header.length);
  a.writeUInt8(flags, header.length + 8);
  a.writeUInt32BE(length, header.length + 9);
  return a;
}

export function makeHeader(keyId: string, frameBytes: number, salt: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt8(1, 8);
  h.writeUInt32BE(frameBytes, 12);
  Buffer.from(keyId, 'hex').copy(h, 16);
  salt.copy(h, 24);
  return h;
}

/** The error every authentication failure becomes: what it means and what to do. */
export class BackupIntegrityError extends UserError {}

/** Encrypts a byte stream into the framed format. Memory: about two frames. */
export class EncryptStream extends Transform {
  private readonly header: Buffer;
  private readonly key: Buffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;

  /**
   * `beforeFinal` runs before the final frame is written and may reject: a producer that failed (a dump
   * that exited non-zero) then fails the stream instead of sealing a complete-looking object.
   */
  constructor(
    master: EncryptionKey,
    readonly frameBytes = DEFAULT_FRAME_BYTES,
    private readonly beforeFinal?: () => Promise<void>,
  ) {
    super();
    if (!Number.isInteger(frameBytes) || frameBytes < 1 || frameBytes > MAX_FRAME_BYTES)
      throw new Error(`frame size ${frameBytes} out of range`);
    const salt = randomBytes(16);
    this.header = makeHeader(master.id, frameBytes, salt);
    this.key = dataKey(master.key, salt);
    this.push(this.header);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // A full frame is only sent once more data follows it: the last frame must carry the final flag.
    while (this.pendingBytes > this.frameBytes) {
      const all = Buffer.concat(this.pending, this.pendingBytes);
      this.push(this.seal(all.subarray(0, this.frameBytes), false));
      const rest = all.subarray(this.frameBytes);
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    const gate = this.beforeFinal ? this.beforeFinal() : Promise.resolve();
    gate.then(
      () => {
        this.push(this.seal(Buffer.concat(this.pending, this.pendingBytes), true));
        this.pending = [];
        done();
      },
      (err: unknown) => {
        done(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private seal(plain: Buffer, final: boolean): Buffer {
    const flags = final ? FLAG_FINAL : 0;
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.index));
    cipher.setAAD(aad(this.header, this.index, flags, plain.length));
    const head = Buffer.alloc(5);
    head.writeUInt8(flags, 0);
    head.writeUInt32BE(plain.length, 1);
    const out = Buffer.concat([head, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    this.index++;
    return out;
  }
}

/**
 * Decrypts the framed format; any tampering, truncation or a
 * different key fails the stream with a BackupIntegrityError.
 */
export class DecryptStream extends Transform {
  private header: Buffer | undefined;
  private key: Buffer | undefined;
  private frameBytes = 0;
  private buf: Buffer = Buffer.alloc(0);
  private index = 0;
  private finished = false;

  constructor(
    private readonly master: EncryptionKey,
    private readonly what = 'the backup',
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.drain();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (!this.finished) {
      done(
        new BackupIntegrityError(
          `${this.what} is truncated: it ends after ${this.index} frame(s) without its ` +
            `final frame (an interrupted upload or a cut-off object); use another backup`,
        ),
      );
      return;
    }
    done();
  }

  private drain(): void {
    if (!this.header) {
      if (this.buf.length < HEADER_BYTES) return;
      const h = this.buf.subarray(0, HEADER_BYTES);
      if (!h.subarray(0, 8).equals(MAGIC))
        throw new BackupIntegrityError(
          `${this.what} is not a kstack encrypted backup (bad magic bytes); is it corrupted, or the wrong object?`,
        );
      if (h.readUInt8(8) !== 1)
        throw new BackupIntegrityError(
          `${this.what} has encryption format version ${h.readUInt8(8)}; this kstack reads version 1`,
        );
      this.frameBytes = h.readUInt32BE(12);
      if (this.frameBytes < 1 || this.frameBytes > MAX_FRAME_BYTES)
        throw new BackupIntegrityError(`${this.what} has a corrupted header (frame size ${this.frameBytes})`);
      const keyId = h.subarray(16, 24).toString('hex');
      if (keyId !== this.master.id) {
        throw new BackupIntegrityError(
          `${this.what} was encrypted with key id ${keyId}, but the key given has ` +
            `id ${this.master.id}: wrong encryption key; use the key the backup was made with`,
        );
      }
      this.header = Buffer.from(h);
      this.key = dataKey(this.master.key, h.subarray(24, 40));
      this.buf = this.buf.subarray(HEADER_BYTES);
    }
    for (;;) {
      if (this.buf.length === 0) return;
      if (this.finished)
        throw new BackupIntegrityError(
          `${this.what} has ${this.buf.length} unexpected byte(s) after its final frame: it is corrupted`,
        );
      if (this.buf.length < 5) return;
      const flags = this.buf.readUInt8(0);
      const len = this.buf.readUInt32BE(1);
      if ((flags & ~FLAG_FINAL) !== 0 || len > this.frameBytes)
        throw new BackupIntegrityError(`${this.what} is corrupted: frame ${this.index} has an impossible header`);
      const total = 5 + len + TAG_BYTES;
      if (this.buf.length < total) return;
      const decipher = createDecipheriv('aes-256-gcm', this.key ?? Buffer.alloc(0), nonce(this.index));
      decipher.setAAD(aad(this.header, this.index, flags, len));
      decipher.setAuthTag(this.buf.subarray(5 + len, total));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(this.buf.subarray(5, 5 + len)), decipher.final()]);
      } catch {
        throw new BackupIntegrityError(
          `${this.what} failed authentication at frame ${this.index} ` +
            `(byte ${HEADER_BYTES + this.index * (this.frameBytes + FRAME_OVERHEAD)}): ` +
            `it is corrupted or was tampered with; use another backup`,
        );
      }
      this.push(plain);
      this.buf = this.buf.subarray(total);
      this.index++;
      if ((flags & FLAG_FINAL) !== 0) this.finished = true;
    }
  }
}

/** Encrypted size of `plainBytes` bytes, for progress and checks. */
export function encryptedSize(plainBytes: number, frameBytes = DEFAULT_FRAME_BYTES): number {
  const frames = Math.max(1, Math.ceil(plainBytes / frameBytes));
  return HEADER_BYTES + plainBytes + frames * FRAME_OVERHEAD;
}
