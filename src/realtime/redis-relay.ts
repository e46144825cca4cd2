import { Redis } from "ioredis";
import { z } from "zod";
import { taskEventSchema } from "./task-events.ts";
import type { TaskHub, TaskRelay } from "./task-hub.ts";
import type { Logger } from "../lib/logger.ts";

const relayedSchema = z.object({ origin: z.string(), key: z.string(), event: taskEventSchema });

export interface RedisRelay extends TaskRelay {
  /** Resolves once subscribed, so no event published after start is missed. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Task events over Redis pub/sub, for several gateway replicas: a task is followed by the replica
 * that submitted it, while its WebSocket clients may be connected to any replica. Each replica
 * publishes what it learns and delivers what the others publish. Previews stay local (opt-in,
 * large, and not worth a round trip through Redis).
 */
export function createRedisRelay(options: { url: string; channel: string; origin: string; hub: TaskHub; logger: Logger }): RedisRelay {
  const connection = { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true };
  const publisher = new Redis(options.url, connection);
  // The subscription waits for Redis however long it is away (a gateway started before its Redis
  // serves meanwhile, alone); ioredis subscribes again by itself after a reconnect.
  const subscriber = new Redis(options.url, { ...connection, maxRetriesPerRequest: null });
  for (const client of [publisher, subscriber]) {
    client.on("error", (error: Error) => options.logger.warn("redis relay error", { error: error.message }));
  }
  subscriber.on("message", (_channel: string, text: string) => {
    let parsed: z.infer<typeof relayedSchema>;
    try {
      parsed = relayedSchema.parse(JSON.parse(text));
    } catch {
      return;
    }
    if (parsed.origin !== options.origin) options.hub.deliver(parsed.key, parsed.event);
  });
  const ready = subscriber.subscribe(options.channel).then(() => undefined);
  return {
    ready,
    publish(key, event) {
      const message = JSON.stringify({ origin: options.origin, key, event });
      publisher.publish(options.channel, message).catch((error: unknown) => {
        options.logger.warn("redis relay publish failed", { error: String(error) });
      });
    },
    async close() {
      // QUIT waits for a connection like any command: with Redis away, drop the socket instead.
      await Promise.allSettled([publisher, subscriber].map((client) => (client.status === "ready" ? client.quit() : client.disconnect())));
    },
  };
}
