import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTcpProxy, throughProxy } from "../support/tcp-proxy.ts";
import { startTestServer } from "../support/test-server.ts";
import { isFinalMessage, openProgressClient } from "../support/ws-client.ts";
import { expectCleanEnd, settled, submitMany } from "./fault-support.ts";

const redisUrl = inject("redisUrl");

describe.each(dialectCases)("Redis faults on $name", (dialect) => {
  it.skipIf(dialect.skip || redisUrl === null)("Redis down with REDIS_URL set: tasks still run to their end and the submitter's sockets hear it", async () => {
    const target = new URL(redisUrl!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(dialect, { COMFY_SERVERS: `gpu1=${fake.url}`, REDIS_URL: throughProxy(redisUrl!, proxy), REDIS_CHANNEL: `aipack-test:${randomUUID()}` });
    const { ids } = await submitMany(gw.url, 2);
    const client = await openProgressClient(`${gw.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${ids[1]}`);
    proxy.cut();
    fake.setOptions({ paused: false });

    const tasks = await settled(gw.url, "style", ids);
    expect(tasks.map((task) => task.status)).toEqual(["succeeded", "succeeded"]);
    expect((await client.waitFor(isFinalMessage)).type).toBe("succeeded");
    await expectCleanEnd(gw.url, tasks, gw.config.dataDir);
    // The relay's client notices the cut connection on its own schedule, maybe after the tasks ended.
    await expect.poll(() => gw.logger.entries.map((entry) => entry.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^redis relay (error|publish failed)$/)]));
  });

  it.skipIf(dialect.skip || redisUrl === null)("Redis down once the dispatcher lease could not be renewed: new tasks are still dispatched and run to their end", async () => {
    const target = new URL(redisUrl!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const fake = await fakeForTest();
    const gw = await startTestServer(dialect, { COMFY_SERVERS: `gpu1=${fake.url}`, REDIS_URL: throughProxy(redisUrl!, proxy), REDIS_CHANNEL: `aipack-test:${randomUUID()}` });
    proxy.cut();
    // The lease's renewal has failed: from here a dispatcher that needed Redis would hand nothing over.
    await expect.poll(() => gw.logger.entries.some((entry) => entry.message.startsWith("redis unreachable: dispatching without the lease")), { timeout: 15_000 }).toBe(true);
    const { ids } = await submitMany(gw.url, 2);

    const tasks = await settled(gw.url, "style", ids);
    expect(tasks.map((task) => task.status)).toEqual(["succeeded", "succeeded"]);
    expect(fake.counters.promptPosts).toBe(2);
  });

  it.skipIf(dialect.skip || redisUrl === null)("Redis down when the gateway starts: it serves, and relays task events once Redis is back", async () => {
    const target = new URL(redisUrl!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    proxy.cut();
    const channel = `aipack-test:${randomUUID()}`;
    const fake = await fakeForTest();
    const env = { COMFY_SERVERS: `gpu1=${fake.url}`, REDIS_URL: throughProxy(redisUrl!, proxy), REDIS_CHANNEL: channel };
    const gw = await startTestServer(dialect, env, dialect.env(), true, undefined, false);
    // The relay's clients have tried and been refused; the gateway still runs tasks.
    await expect.poll(() => proxy.refused, { timeout: 15_000 }).toBeGreaterThan(2);
    const before = await submitMany(gw.url, 1);
    expect((await settled(gw.url, "style", before.ids)).map((task) => task.status)).toEqual(["succeeded"]);

    const listener = new Redis(redisUrl!);
    onTestFinished(() => void listener.quit());
    const heard: string[] = [];
    listener.on("message", (_channel: string, text: string) => heard.push(text));
    await listener.subscribe(channel);
    proxy.restore();
    // Once Redis answers, another replica's clients hear this replica's task events.
    const after = await submitMany(gw.url, 1, "fault-user-2");
    await settled(gw.url, "style", after.ids);
    await expect.poll(() => heard.some((text) => text.includes(after.ids[0]!) && text.includes("succeeded")), { timeout: 15_000 }).toBe(true);
  });
});
