import { Redis } from "ioredis";
import type { Logger } from "../lib/logger.ts";

/**
 * Who is alive among the replicas that own tasks. Each replica renews its lease well within the
 * TTL; a task whose owner's lease has lapsed may be adopted by a live replica.
 */
export interface OwnerLeases {
  /** Renews this replica's lease; rejects when the store cannot be reached. */
  renew(): Promise<void>;
  /** The owners among `owners` whose lease has lapsed; null when that cannot be told now (adopt nothing). */
  lapsed(owners: readonly string[]): Promise<string[] | null>;
  close(): Promise<void>;
}

/** A single replica: nobody else's tasks to adopt. */
export const soleReplica: OwnerLeases = {
  renew: async () => undefined,
  lapsed: async () => [],
  close: async () => undefined,
};

/**
 * Leases as Redis keys with a TTL (`<namespace>:lease:<gateway id>`): no table and no migration,
 * and replicas already share Redis for their task events. Redis being down adopts nothing: a
 * lease that cannot be read is never taken for a lapsed one.
 */
export function redisOwnerLeases(options: { url: string; namespace: string; gatewayId: string; ttlMs: number; logger: Logger }): OwnerLeases {
  const client = new Redis(options.url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  client.on("error", (error: Error) => options.logger.warn("redis lease error", { error: error.message }));
  const key = (gatewayId: string) => `${options.namespace}:lease:${gatewayId}`;
  const renew = async () => {
    await client.set(key(options.gatewayId), String(Date.now()), "PX", options.ttlMs);
  };
  // Renewed on a timer of its own, three times per TTL: a slow sweep never lets a live lease lapse.
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(50, Math.floor(options.ttlMs / 3)));
  timer.unref();
  return {
    renew,
    async lapsed(owners) {
      if (owners.length === 0) return [];
      try {
        const values = await client.mget(...owners.map(key));
        return owners.filter((_, index) => values[index] === null);
      } catch {
        return null;
      }
    },
    async close() {
      clearInterval(timer);
      // A clean stop hands the tasks over at once instead of after the TTL.
      await client.del(key(options.gatewayId)).catch(() => undefined);
      await client.quit().catch(() => undefined);
    },
  };
}
