// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it: the holder renews every
// retry period; a candidate takes over once it has seen the same lease record, unrenewed, for a whole
// lease duration (measured on its own clock, so clock skew between replicas does not matter); updates use
// the lease's resourceVersion so two candidates can never both win.
import { ApiError, type KubeApi } from './kubeapi.js';

const isAborted = (signal: AbortSignal): boolean => signal.aborted;

export interface LeaderConfig {
  leaseName: string;
  leaseNamespace: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

export interface LeaderHooks {
  /** `previousRenew`: when the previous holder last proved it was alive (undefined for a new or released lease). */
  onStartedLeading(previousRenew: Date | undefined): void;
  onStoppedLeading(): void;
  log(message: string): void;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  isLeader = false;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly cfg: LeaderConfig,
    private readonly hooks: LeaderHooks,
  ) {}

  private path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.cfg.leaseNamespace)}/leases`;
    return name ? `${base}/${encodeURIComponent(name)}` : base;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.tryAcquireOrRenew(signal);
      } catch (err) {
        if (isAborted(signal)) break;
        this.hooks.log(`leader election: ${(err as Error).message}`);
      }
      if (this.isLeader && Date.now() - this.lastRenew > this.cfg.renewDeadlineMs) {
        this.hooks.log(
          `leader election: could not renew the lease within ${this.cfg.renewDeadlineMs} ms; stepping down`,
        );
        this.isLeader = false;
        this.hooks.onStoppedLeading();
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.cfg.retryPeriodMs);
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<void> {
    const now = new Date();
    const timeoutMs = Math.max(1000, this.cfg.retryPeriodMs);
    let lease: Lease | undefined;
    try {
      lease = await this.api.request<Lease>(this.path(this.cfg.leaseName), { signal, timeoutMs });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    const spec = {
      holderIdentity: this.cfg.identity,
      leaseDurationSeconds: Math.ceil(this.cfg.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (!lease) {
      await this.api.request(this.path(), {
        method: 'POST',
        contentType: 'application/json',
        signal,
        timeoutMs,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.cfg.leaseName, namespace: this.cfg.leaseNamespace },
          spec,
        },
      });
      this.becameLeader(undefined);
      return;
    }
    const holder = lease.spec.holderIdentity ?? '';
    const record = `${holder}|${lease.spec.renewTime ?? ''}|${lease.metadata.resourceVersion ?? ''}`;
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const mine = holder === this.cfg.identity;
    const expired = holder === '' || Date.now() - this.observed.at > (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    if (!mine && !expired) {
      if (this.isLeader) {
        this.isLeader = false;
        this.hooks.onStoppedLeading();
      }
      return;
    }
    const updated: Lease = {
      ...lease,
      spec: mine
        ? { ...lease.spec, renewTime: spec.renewTime, leaseDurationSeconds: spec.leaseDurationSeconds }
        : { ...spec, leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 },
    };
    await this.api.request(this.path(this.cfg.leaseName), {
      method: 'PUT',
      contentType: 'application/json',
      body: updated,
      signal,
      timeoutMs,
    });
    this.lastRenew = Date.now();
    if (!this.isLeader) {
      const prev = holder !== '' && lease.spec.renewTime ? new Date(lease.spec.renewTime) : undefined;
      // A released lease keeps the release time as renewTime: events after it still need replaying.
      const released = holder === '' && lease.spec.renewTime ? new Date(lease.spec.renewTime) : undefined;
      this.becameLeader(prev ?? released);
    }
  }

  private becameLeader(previousRenew: Date | undefined): void {
    this.lastRenew = Date.now();
    this.isLeader = true;
    this.hooks.log(
      `leader election: ${this.cfg.identity} is now the leader of ${this.cfg.leaseNamespace}/${this.cfg.leaseName}`,
    );
    this.hooks.onStartedLeading(previousRenew);
  }

  /** Gives the lease up on graceful shutdown so the other replica takes over at once. */
  async release(): Promise<void> {
    if (!this.isLeader) return;
    this.isLeader = false;
    try {
      const lease = await this.api.request<Lease>(this.path(this.cfg.leaseName), { timeoutMs: 3000 });
      if (lease.spec.holderIdentity !== this.cfg.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: null, renewTime: microTime(new Date()), leaseDurationSeconds: 1 };
      await this.api.request(this.path(this.cfg.leaseName), {
        method: 'PUT',
        contentType: 'application/json',
        body: lease,
        timeoutMs: 3000,
      });
    } catch (err) {
      this.hooks.log(
        `leader election: could not release the lease ` +
          `(${(err as Error).message}); the other replica takes over when it expires`,
      );
    }
  }
}
