// Capped exponential backoff for anything that retries a connection (podwatch's informer and sinks, the
// host daemons' watches).

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter" (half fixed, half
 * random) so many watchers do not reconnect in lockstep yet never retry faster than half the nominal delay.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return nominal / 2 + random() * (nominal / 2);
}
