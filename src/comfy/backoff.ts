/** Reconnect delay bounds. */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": half the capped delay is fixed, half random, so a pool of
 * gateways reconnecting to a restarted server does not stampede it in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const capped = Math.min(options.maxMs, options.minMs * 2 ** Math.max(0, attempt));
  const random = options.random ?? Math.random;
  return Math.round(capped / 2 + (capped / 2) * random());
}
