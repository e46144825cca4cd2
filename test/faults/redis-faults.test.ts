import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
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
});
