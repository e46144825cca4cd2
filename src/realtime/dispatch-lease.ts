import { Redis } from "ioredis";
import type { Logger } from "../lib/logger.ts";

/**
 * Who dispatches: exactly one replica at a time holds this lease and hands waiting tasks to
 * servers. The holder renews it well within its TTL; when it dies, another replica's next
 * `acquire` takes it once the TTL has run out.
 */
export interface DispatchLease {
  /** Takes the lease, or renews it if held; true while this replica holds it. Never rejects. */
  acquire(): Promise<boolean>;
  /** Gives it up (a clean stop hands over at once instead of after the TTL). */
  release(): Promise<void>;
}

/** One process (the embedded SQLite default, or a single replica): it always dispatches. */
export const inProcessLease: DispatchLease = {
  acquire: async () => true,
  release: async () => undefined,
};

// Renews only a lease this replica still holds: after a pause longer than the TTL another
// replica may hold it, and a plain SET would steal it back.
const renewScript = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
const releaseScript = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/**
 * The lease as one Redis key with an expiry (`<namespace>:dispatcher`), set with NX: the replicas
 * already share Redis for their events and owner leases. Redis unreachable: this replica
 * dispatches anyway rather than leave every task waiting on a cache. That stays safe, because the
 * lease only keeps dispatchers from wasting work: the claim in the database is conditional, so no
 * task is dispatched twice, and at worst a server gets a few more prepared tasks than its depth
 * while two replicas dispatch. Once Redis is back, the replicas contend for the key again.
 */
export function redisDispatchLease(options: { url: string; namespace: string; gatewayId: string; ttlMs: number; logger: Logger }): DispatchLease {
  const client = new Redis(options.url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  client.on("error", (error: Error) => options.logger.warn("redis dispatch lease error", { error: error.message }));
  const key = `${options.namespace}:dispatcher`;
  // Unique per process: a restarted replica with the same INSTANCE_ID is a new holder.
  const holder = `${options.gatewayId}:${process.pid}:${Date.now()}`;
  let held = false;
  let degraded = false;
  return {
    async acquire() {
      try {
        if (held && !degraded && Number(await client.eval(renewScript, 1, key, holder, String(options.ttlMs))) === 1) return true;
        held = (await client.set(key, holder, "PX", options.ttlMs, "NX")) === "OK";
        if (degraded) options.logger.info("redis is back: the dispatcher lease is contended for again", {});
        degraded = false;
      } catch (error) {
        if (!degraded) options.logger.warn("redis unreachable: dispatching without the lease (claims stay conditional)", { error: String(error) });
        degraded = true;
        held = true;
      }
      return held;
    },
    async release() {
      if (held) await client.eval(releaseScript, 1, key, holder).catch(() => undefined);
      held = false;
      await client.quit().catch(() => undefined);
    },
  };
}
