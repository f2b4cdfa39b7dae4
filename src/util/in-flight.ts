// One run of the same work at a time within this process: callers that ask for a key while its work runs get
// the same promise instead of starting it again. The file locks of lock.ts keep kstack processes apart but
// let a lock's own process through, so work started twice in one process (e.g. two regions' lanes building
// the same image) must be joined here, or the second run would replace files the first is still using.

export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** `work()` for `key`, or the run of it already under way. The key is free again once the run settles. */
  run(key: string, work: () => Promise<T>): Promise<T> {
    const current = this.running.get(key);
    if (current) return current;
    const started = work().finally(() => {
      this.running.delete(key);
    });
    this.running.set(key, started);
    return started;
  }
}
