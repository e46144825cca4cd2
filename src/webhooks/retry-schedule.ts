/** How long to wait before the next attempt, and for how long to try at all. */
export interface RetrySchedule {
  /** The first retry's delay; each next one doubles, up to an hour (WEBHOOK_RETRY_BASE_MS). */
  baseMs: number;
  /** Attempts stop once the event is this old (WEBHOOK_RETRY_FOR, 24 h by default). */
  retryForMs: number;
}

const maxDelayMs = 3_600_000;

/**
 * The delay before attempt `attempts + 1`: exponential (base · 2^(attempts−1), capped at an hour)
 * with ±25 % jitter, so receivers that come back are not hit by every event at the same instant.
 */
export function retryDelayMs(schedule: RetrySchedule, attempts: number, random: () => number = Math.random): number {
  const exponential = Math.min(schedule.baseMs * 2 ** Math.max(0, attempts - 1), maxDelayMs);
  return Math.round(exponential * (0.75 + random() * 0.5));
}
