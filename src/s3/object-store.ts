// An S3 or S3-compatible object store (MinIO locally and in tests): the backups' storage target (src/dr)
// and the local cluster's S3 server's bucket setup (src/cluster/addons/local-s3.ts) both use it, so it
// lives below both. Configuration comes from the environment and mounted files (a Kubernetes Secret);
// objects are streamed in and out with bounded memory (multipart upload: part size × queue size bytes at most).
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { UserError, messageOf } from '../util/errors.js';

export interface StorageConfig {
  /** e.g. http://127.0.0.1:9000; undefined = AWS S3 for the region. */
  endpoint: string | undefined;
  bucket: string;
  /** Key prefix without leading or trailing slash ('' = bucket root). */
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style addressing (bucket in the path): what MinIO and most S3-compatible stores want. */
  forcePathStyle: boolean;
}

/** Environment variables the storage target is read from (each credential also as NAME_FILE). */
export const STORAGE_ENV = {
  endpoint: 'KSTACK_DR_S3_ENDPOINT',
  bucket: 'KSTACK_DR_S3_BUCKET',
  prefix: 'KSTACK_DR_S3_PREFIX',
  region: 'KSTACK_DR_S3_REGION',
  accessKeyId: 'KSTACK_DR_S3_ACCESS_KEY_ID',
  secretAccessKey: 'KSTACK_DR_S3_SECRET_ACCESS_KEY',
  forcePathStyle: 'KSTACK_DR_S3_PATH_STYLE',
} as const;

type ReadFile = (path: string) => string;
const readText: ReadFile = (p) => readFileSync(p, 'utf8');

/** A value from NAME, or from the file named by NAME_FILE (trimmed); both set is an error. */
function secretValue(env: NodeJS.ProcessEnv, name: string, readFile: ReadFile): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '')
    throw new UserError(`${name} and ${name}_FILE are both set; set only one`);
  if (file !== undefined && file !== '') {
    try {
      return readFile(file).trim();
    } catch (err) {
      throw new UserError(
        `${name}_FILE: cannot read ${file} (${messageOf(err)}); mount the Secret there or fix the path`,
      );
    }
  }
  return direct === '' ? undefined : direct;
}

/** Parses the storage target from the environment; every problem names the variable and what is allowed. */
export function parseStorageConfig(env: NodeJS.ProcessEnv, readFile: ReadFile = readText): StorageConfig {
  const endpointRaw = env[STORAGE_ENV.endpoint];
  let endpoint: string | undefined;
  if (endpointRaw !== undefined && endpointRaw !== '') {
    let u: URL;
    try {
      u = new URL(endpointRaw);
    } catch {
      throw new UserError(
        `${STORAGE_ENV.endpoint}: '${endpointRaw}' is not a URL; use e.g. ` +
          `http://minio.backup:9000 or https://s3.eu-west-1.amazonaws.com`,
      );
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new UserError(`${STORAGE_ENV.endpoint}: scheme must be http or https; got '${u.protocol}'`);
    if (u.pathname !== '/' && u.pathname !== '')
      throw new UserError(
        `${STORAGE_ENV.endpoint}: must not contain a path ('${u.pathname}'); put ` +
          `the bucket in ${STORAGE_ENV.bucket} and folders in ${STORAGE_ENV.prefix}`,
      );
    endpoint = `${u.protocol}//${u.host}`;
  }
  const bucket = env[STORAGE_ENV.bucket] ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UserError(
      `${STORAGE_ENV.bucket}: ${bucket === '' ? 'not set' : `'${bucket}' is not a valid bucket name`}; ` +
        `a bucket name is 3-63 characters of a-z, 0-9, '.' and '-'`,
    );
  }
  const prefixRaw = env[STORAGE_ENV.prefix] ?? '';
  const prefix = prefixRaw.replace(/^\/+|\/+$/g, '');
  if (
    prefix.split('/').some((s) => s === '.' || s === '..') ||
    prefix.includes('//') ||
    Array.from(prefix, (ch) => ch.charCodeAt(0)).some((c) => c < 0x20)
  ) {
    throw new UserError(
      `${STORAGE_ENV.prefix}: '${prefixRaw}' is not a usable key ` +
        `prefix (no empty, '.' or '..' segments, no control characters)`,
    );
  }
  const region = env[STORAGE_ENV.region] ?? (endpoint ? 'us-east-1' : '');
  if (!/^[a-z0-9-]+$/.test(region))
    throw new UserError(
      `${STORAGE_ENV.region}: ` +
        (region === '' ? 'required when no endpoint is set (AWS S3)' : `'${region}' is not a region name`),
    );
  const accessKeyId = secretValue(env, STORAGE_ENV.accessKeyId, readFile);
  const secretAccessKey = secretValue(env, STORAGE_ENV.secretAccessKey, readFile);
  if (!accessKeyId)
    throw new UserError(
      `${STORAGE_ENV.accessKeyId} (or ${STORAGE_ENV.accessKeyId}_FILE): not set; the storage credentials are required`,
    );
  if (!secretAccessKey)
    throw new UserError(
      `${STORAGE_ENV.secretAccessKey} (or ${STORAGE_ENV.secretAccessKey}_FILE): ` +
        `not set; the storage credentials are required`,
    );
  const ps = env[STORAGE_ENV.forcePathStyle];
  if (ps !== undefined && ps !== '' && ps !== 'true' && ps !== 'false')
    throw new UserError(`${STORAGE_ENV.forcePathStyle}: must be true or false; got '${ps}'`);
  const forcePathStyle = ps === undefined || ps === '' ? endpoint !== undefined : ps === 'true';
  return { endpoint, bucket, prefix, region, accessKeyId, secretAccessKey, forcePathStyle };
}

/** A key under the configured prefix. */
export function keyUnder(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].filter((p) => p !== '').join('/');
}

export interface PutOptions {
  /** Multipart part size; memory in flight is at most partSize × queueSize. */
  partSize?: number;
  queueSize?: number;
  onProgress?: (bytesUploaded: number) => void;
  /** User metadata stored with the object (x-amz-meta-*; lowercase names). */
  metadata?: Record<string, string>;
}

/** One object as a listing gives it (ETag without its quotes). */
export interface ListedObject {
  key: string;
  size: number;
  modified: Date | undefined;
  etag: string;
}

export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

/** Turns an SDK failure into a one-line error that says where it happened and what to do. */
export function storageError(what: string, cfg: StorageConfig, err: unknown): UserError {
  const where = `s3://${cfg.bucket}/${cfg.prefix}${cfg.endpoint ? ` at ${cfg.endpoint}` : ''}`;
  const detail = err instanceof S3ServiceException ? `${err.name}: ${err.message}` : messageOf(err);
  const code = err instanceof S3ServiceException ? err.name : ((err as { code?: string }).code ?? '');
  let hint = 'check that the storage is reachable and run again';
  if (code === 'NoSuchBucket') hint = `create bucket '${cfg.bucket}' or fix ${STORAGE_ENV.bucket}`;
  else if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || code === 'AccessDenied')
    hint = `check the credentials (${STORAGE_ENV.accessKeyId}, ${STORAGE_ENV.secretAccessKey}) and the bucket policy`;
  return new UserError(`${what} failed on ${where}: ${detail}; ${hint}`);
}

/** An ETag as S3 sends it ("…") without the quotes. */
const unquote = (etag: string | undefined): string => (etag ?? '').replace(/^"|"$/g, '');

export class ObjectStore {
  readonly client: S3Client;

  constructor(
    readonly cfg: StorageConfig,
    opts: { maxAttempts?: number; requestTimeoutMs?: number } = {},
  ) {
    // The SDK warns on Node < 22 that *future* SDK releases will need it; ours is pinned and runs on the
    // host's Node 20, so the warning would only confuse every backup command's output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      region: cfg.region,
      endpoint: cfg.endpoint,
      forcePathStyle: cfg.forcePathStyle,
      credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
      maxAttempts: opts.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: 5000, requestTimeout: opts.requestTimeoutMs ?? 120_000 },
      // Plain S3 semantics that every S3-compatible store understands.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    // Upload parts are sent unsigned (SigV4 "UNSIGNED-PAYLOAD"): otherwise the SDK hashes every part once
    // more (SHA-256) and the server hashes it again to check, CPU a backup competes for. Nothing is lost:
    // the parts are AES-256-GCM frames, each authenticated, and the whole object's SHA-256 is in the manifest.
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        // At the build step the request is the serialized HTTP request (headers are a plain record).
        const request = args.request as { headers?: Record<string, string> } | undefined;
        if (context.commandName === 'UploadPartCommand' && request?.headers)
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'kstackUnsignedUploadParts' },
    );
  }

  key(...parts: string[]): string {
    return keyUnder(this.cfg.prefix, ...parts);
  }

  /**
   * Streams `body` into `key` with a multipart upload. On any failure the upload is aborted (parts
   * deleted) when the storage still answers, and the error says what happened.
   */
  async putStream(key: string, body: Readable, opts: PutOptions = {}): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.cfg.bucket, Key: key, Body: body, ...(opts.metadata ? { Metadata: opts.metadata } : {}) },
      partSize: opts.partSize ?? DEFAULT_PART_BYTES,
      queueSize: opts.queueSize ?? 2,
      leavePartsOnError: false,
    });
    if (opts.onProgress) {
      const cb = opts.onProgress;
      upload.on('httpUploadProgress', (p) => {
        if (p.loaded !== undefined) cb(p.loaded);
      });
    }
    const failed = new Promise<never>((_, reject) => {
      body.once('error', reject);
    });
    try {
      await Promise.race([upload.done(), failed]);
    } catch (err) {
      await upload.abort().catch(() => undefined);
      await this.abortUploads(key).catch(() => undefined);
      if (err instanceof UserError) throw err;
      throw storageError(`uploading ${key}`, this.cfg, err);
    }
  }

  async putBytes(key: string, data: Buffer | string, contentType = 'application/json'): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.cfg.bucket, Key: key, Body: data, ContentType: contentType }),
      );
    } catch (err) {
      throw storageError(`writing ${key}`, this.cfg, err);
    }
  }

  async getStream(key: string): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      if (!(res.Body instanceof Readable)) throw new Error('the response has no body stream');
      return res.Body;
    } catch (err) {
      throw storageError(`reading ${key}`, this.cfg, err);
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const s = await this.getStream(key);
    for await (const c of s) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Size of an object, or undefined when it does not exist. */
  async size(key: string): Promise<number | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      return res.ContentLength ?? 0;
    } catch (err) {
      if (err instanceof S3ServiceException && (err.name === 'NotFound' || err.$metadata.httpStatusCode === 404))
        return undefined;
      throw storageError(`looking up ${key}`, this.cfg, err);
    }
  }

  /** Size, ETag (unquoted) and user metadata of an object, or undefined when it does not exist. */
  async head(key: string): Promise<{ size: number; etag: string; metadata: Record<string, string> } | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      return { size: res.ContentLength ?? 0, etag: unquote(res.ETag), metadata: res.Metadata ?? {} };
    } catch (err) {
      if (err instanceof S3ServiceException && (err.name === 'NotFound' || err.$metadata.httpStatusCode === 404))
        return undefined;
      throw storageError(`looking up ${key}`, this.cfg, err);
    }
  }

  /** Creates the configured bucket unless it exists. */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.cfg.bucket }));
      return;
    } catch (err) {
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
      if (status !== 404) throw storageError(`looking up bucket ${this.cfg.bucket}`, this.cfg, err);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.cfg.bucket }));
    } catch (err) {
      if (err instanceof S3ServiceException && err.name === 'BucketAlreadyOwnedByYou') return;
      throw storageError(`creating bucket ${this.cfg.bucket}`, this.cfg, err);
    }
  }

  /** Every key under `prefix` (a full key prefix, not relative to the configured one). */
  async list(prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    try {
      do {
        const res = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? [])
          if (o.Key !== undefined)
            out.push({ key: o.Key, size: o.Size ?? 0, modified: o.LastModified, etag: unquote(o.ETag) });
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw storageError(`listing ${prefix}`, this.cfg, err);
    }
    return out;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        const res = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.cfg.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const first = res.Errors?.[0];
        if (first) throw new Error(`${first.Key ?? '?'}: ${first.Code ?? ''} ${first.Message ?? ''}`);
      } catch (err) {
        throw storageError(`deleting ${batch.length} object(s)`, this.cfg, err);
      }
    }
  }

  /**
   * Aborts unfinished multipart uploads under `prefix` started before `olderThan` (all when not given):
   * what a crashed or cut-off backup leaves behind. Returns how many were aborted.
   */
  async abortUploads(prefix: string, olderThan?: Date): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    try {
      for (;;) {
        const res = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.cfg.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: idMarker,
          }),
        );
        for (const u of res.Uploads ?? []) {
          if (u.Key === undefined || u.UploadId === undefined) continue;
          if (olderThan && u.Initiated && u.Initiated >= olderThan) continue;
          await this.client.send(
            new AbortMultipartUploadCommand({ Bucket: this.cfg.bucket, Key: u.Key, UploadId: u.UploadId }),
          );
          aborted++;
        }
        if (!res.IsTruncated) break;
        keyMarker = res.NextKeyMarker;
        idMarker = res.NextUploadIdMarker;
      }
    } catch (err) {
      throw storageError(`cleaning up unfinished uploads under ${prefix}`, this.cfg, err);
    }
    return aborted;
  }

  destroy(): void {
    this.client.destroy();
  }
}
