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
});
