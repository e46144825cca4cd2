import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { memoryLogger } from "../../src/lib/logger.ts";
import { createRedisRelay } from "../../src/realtime/redis-relay.ts";
import type { TaskEvent } from "../../src/realtime/task-events.ts";
import { TaskHub } from "../../src/realtime/task-hub.ts";

const redisUrl = inject("redisUrl");

/** A replica's hub joined to `channel` through a real Redis, with what its listener of `key` hears. */
async function replica(channel: string, origin: string, key: string) {
  const hub = new TaskHub();
  const relay = createRedisRelay({ url: redisUrl!, channel, origin, hub, logger: memoryLogger() });
  onTestFinished(() => relay.close());
  hub.useRelay(relay);
  await relay.ready;
  const heard: TaskEvent[] = [];
  hub.subscribe(key, { event: (event) => heard.push(event) });
  return { hub, heard };
}

describe("the Redis relay between replicas", () => {
  it.skipIf(redisUrl === null)("delivers a task's events to the other replica once, and not back to their origin", async () => {
    const channel = `aipack-test:${randomUUID()}`;
    const a = await replica(channel, "a", "style:t1");
    const b = await replica(channel, "b", "style:t1");
    a.hub.publish("style:t1", { type: "running", taskId: "t1" });
    a.hub.publish("style:t1", { type: "succeeded", taskId: "t1", outputUrls: ["u"] });
    await expect.poll(() => b.heard).toEqual([
      { type: "running", taskId: "t1" },
      { type: "succeeded", taskId: "t1", outputUrls: ["u"] },
    ]);
    expect(a.heard).toEqual(b.heard);
  });

  it.skipIf(redisUrl === null)("skips a message that is not a relayed task event and delivers the next", async () => {
    const channel = `aipack-test:${randomUUID()}`;
    const b = await replica(channel, "b", "logo:t2");
    const raw = new Redis(redisUrl!);
    onTestFinished(() => void raw.quit());
    await raw.publish(channel, "not json");
    await raw.publish(channel, JSON.stringify({ origin: "a", key: "logo:t2", event: { type: "no-such-event", taskId: "t2" } }));
    await raw.publish(channel, JSON.stringify({ origin: "a", key: "logo:t2", event: { type: "running", taskId: "t2" } }));
    await expect.poll(() => b.heard).toEqual([{ type: "running", taskId: "t2" }]);
  });
});
