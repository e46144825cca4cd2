import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { memoryLogger } from "../../src/lib/logger.ts";
import { createRedisRelay } from "../../src/realtime/redis-relay.ts";
import type { TaskEvent } from "../../src/realtime/task-events.ts";
import { TaskHub } from "../../src/realtime/task-hub.ts";
import { startTcpProxy, targetOf, throughProxy } from "../support/tcp-proxy.ts";

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
  it.skipIf(redisUrl === null)("delivers a task's events to the other replica once", async () => {
    const channel = `aipack-test:${randomUUID()}`;
    const a = await replica(channel, "a", "style:t1");
    const b = await replica(channel, "b", "style:t1");
    a.hub.publish("style:t1", { type: "running", taskId: "t1" });
    a.hub.publish("style:t1", { type: "succeeded", taskId: "t1", outputUrls: ["u"] });
    await expect.poll(() => b.heard).toEqual([
      { type: "running", taskId: "t1" },
      { type: "succeeded", taskId: "t1", outputUrls: ["u"] },
    ]);
  });

  it.skipIf(redisUrl === null)("does not deliver a replica's own events back to it", async () => {
    const channel = `aipack-test:${randomUUID()}`;
    const a = await replica(channel, "a", "style:t3");
    const b = await replica(channel, "b", "style:t3");
    const running: TaskEvent = { type: "running", taskId: "t3" };
    const executing: TaskEvent = { type: "executing", taskId: "t3", node: "2" };
    a.hub.publish("style:t3", running);
    await expect.poll(() => b.heard).toEqual([running]);
    // Redis delivers a channel's messages in order: an echo of A's own event would reach A before B's.
    b.hub.publish("style:t3", executing);
    await expect.poll(() => a.heard).toContainEqual(executing);
    expect(a.heard).toEqual([running, executing]);
  });

  it.skipIf(redisUrl === null)("logs a lost connection, with the error", async () => {
    const proxy = await startTcpProxy(targetOf(redisUrl!));
    const logger = memoryLogger();
    const hub = new TaskHub();
    const relay = createRedisRelay({ url: throughProxy(redisUrl!, proxy), channel: `aipack-test:${randomUUID()}`, origin: "a", hub, logger });
    onTestFinished(() => relay.close());
    await relay.ready;
    proxy.cut();
    await expect.poll(() => logger.entries.map((entry) => entry.message), { timeout: 20_000 }).toContain("redis relay error");
    const errors = logger.entries.filter((entry) => entry.level === "warn");
    expect(errors.every((entry) => typeof entry.fields?.error === "string" && entry.fields.error !== "")).toBe(true);
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
