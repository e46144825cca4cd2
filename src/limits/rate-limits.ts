import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Limits } from "../config/limits.ts";
import type { Logger } from "../lib/logger.ts";

/** The separate budgets: a flood of polls never eats the submits, nor the other way round. */
export type RateBudget = "submits" | "polls" | "other";

export interface RateLimits {
  limiters: Record<RateBudget, RateLimiterAbstract>;
  /** Per-budget allowance per window, for the RateLimit headers. */
  policy: Record<RateBudget, { points: number; windowSeconds: number }>;
  /** Resolves once the counters are shared through Redis (at once in memory); until then the insurance limiter counts. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const windowSeconds = 60;

/**
 * rate-limiter-flexible counters, one per budget: in Redis when REDIS_URL is set (shared by every
 * replica, with an in-memory insurance limiter while Redis is away), in memory otherwise.
 */
export function createRateLimits(limits: Limits, options: { redisUrl?: string; logger: Logger }): RateLimits {
  const points: Record<RateBudget, number> = {
    submits: limits.rates.submitsPerMinute,
    polls: limits.rates.pollsPerMinute,
    other: limits.rates.otherPerMinute,
  };
  // Without an offline queue a Redis outage fails fast into the insurance limiter instead of stalling requests.
  const redis = options.redisUrl ? new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : null;
  redis?.on("error", (error: Error) => options.logger.warn("rate-limit redis error", { error: error.message }));
  const make = (budget: RateBudget): RateLimiterAbstract => {
    const common = { points: points[budget], duration: windowSeconds, keyPrefix: `aipack:rl:${budget}` };
    const memory = new RateLimiterMemory(common);
    return redis ? new RateLimiterRedis({ ...common, storeClient: redis, insuranceLimiter: memory, rejectIfRedisNotReady: true }) : memory;
  };
  return {
    limiters: { submits: make("submits"), polls: make("polls"), other: make("other") },
    policy: {
      submits: { points: points.submits, windowSeconds },
      polls: { points: points.polls, windowSeconds },
      other: { points: points.other, windowSeconds },
    },
    ready: redis ? new Promise<void>((resolve) => redis.once("ready", () => resolve())) : Promise.resolve(),
    close: async () => {
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}
