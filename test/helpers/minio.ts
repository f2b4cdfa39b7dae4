// A real MinIO (built from its pinned Go module) on 127.0.0.1 with a temp data dir, started and stopped
// by pid. stop() + start() on the same instance is a storage outage and its recovery.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { ensureGoBinaries } from '../../src/setup/go-build.js';
import { pickFreePorts } from '../../src/util/net.js';
import { isRunning, startDaemon, stopDaemon } from '../../src/util/process.js';
import { silentProgress } from '../../src/util/progress.js';
import { ObjectStore, parseStorageConfig, type StorageConfig } from '../../src/s3/object-store.js';

export class MinioServer {
  readonly accessKey = 'kstack-test';
  readonly secretKey = 'kstack-test-secret-key';
  private pid: number | undefined;

  private constructor(
    readonly binary: string,
    readonly dir: string,
    readonly port: number,
    readonly consolePort: number,
  ) {}

  static async start(dir: string): Promise<MinioServer> {
    const { minio } = await ensureGoBinaries(['minio'], silentProgress);
    const [port, consolePort] = await pickFreePorts(2);
    if (port === undefined || consolePort === undefined) throw new Error('no free ports');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const m = new MinioServer(minio, dir, port, consolePort);
    await m.start();
    return m;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment for src/dr (storage target) pointing at this server. */
  env(bucket: string, prefix = ''): NodeJS.ProcessEnv {
    return {
      KSTACK_DR_S3_ENDPOINT: this.endpoint,
      KSTACK_DR_S3_BUCKET: bucket,
      KSTACK_DR_S3_PREFIX: prefix,
      KSTACK_DR_S3_ACCESS_KEY_ID: this.accessKey,
      KSTACK_DR_S3_SECRET_ACCESS_KEY: this.secretKey,
    };
  }

  config(bucket: string, prefix = ''): StorageConfig {
    return parseStorageConfig(this.env(bucket, prefix));
  }

  /** A store on a new bucket. Few retries, so outages surface quickly in tests. */
  async store(bucket: string, prefix = ''): Promise<ObjectStore> {
    const s = new ObjectStore(this.config(bucket, prefix), { maxAttempts: 2, requestTimeoutMs: 30_000 });
    await s.client.send(new CreateBucketCommand({ Bucket: bucket }));
    return s;
  }

  /** The running server's pid (benchmarks read its CPU time), undefined when stopped. */
  get processId(): number | undefined {
    return this.pid !== undefined && isRunning(this.pid, this.binary) ? this.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.pid !== undefined && isRunning(this.pid, this.binary)) return;
    this.pid = startDaemon({
      binary: this.binary,
      args: [
        'server',
        join(this.dir, 'data'),
        '--quiet',
        '--address',
        `127.0.0.1:${this.port}`,
        '--console-address',
        `127.0.0.1:${this.consolePort}`,
      ],
      logFile: join(this.dir, 'minio.log'),
      env: {
        ...process.env,
        MINIO_ROOT_USER: this.accessKey,
        MINIO_ROOT_PASSWORD: this.secretKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      },
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!isRunning(this.pid, this.binary))
        throw new Error(`minio exited while starting; see ${join(this.dir, 'minio.log')}`);
      try {
        const res = await fetch(`${this.endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.ok) return;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline)
        throw new Error(`minio did not become ready within 60s; see ${join(this.dir, 'minio.log')}`);
      await sleep(250);
    }
  }

  /** Kills the server (an outage): SIGKILL, no grace. */
  async kill(): Promise<void> {
    if (this.pid !== undefined) await stopDaemon(this.pid, this.binary, 0);
    this.pid = undefined;
  }

  async stop(remove = true): Promise<void> {
    if (this.pid !== undefined) await stopDaemon(this.pid, this.binary, 10_000);
    this.pid = undefined;
    if (remove) rmSync(this.dir, { recursive: true, force: true });
  }
}
