import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases, mysqlUrl, tempDir, uniqueDatabasePrefix } from "../support/dialects.ts";
import { spawnGateway } from "../support/spawn-gateway.ts";
import { untilDispatched } from "../support/task-client.ts";
import { expectCleanEnd, readTask, serverUp, settled, submitMany } from "./fault-support.ts";
import { onTestFinished } from "vitest";

const redisUrl = inject("redisUrl");

describe.each(dialectCases)("the gateway killed (kill -9) on $name", (dialect) => {
  it.skipIf(dialect.skip)("mid-job: after its restart the running and the queued task both end succeeded, each output stored once", async () => {
    const fake = await fakeForTest({ paused: true, nodeDelayMs: { ImageInvert: 3_000 } });
    const data = dialect.env();
    onTestFinished(data.cleanup);
    const env = { ...data.env, COMFY_SERVERS: `gpu1=${fake.url}`, INSTANCE_ID: "killed-gateway", RECONCILE_INTERVAL_MS: "300" };
    const first = await spawnGateway("node", env);
    await serverUp(first.url);
    const { ids } = await submitMany(first.url, 2);
    fake.setOptions({ paused: false });
    await expect.poll(async () => (await readTask(first.url, "style", ids[0]!))?.status, { timeout: 15_000 }).toBe("running");
    await first.stop("SIGKILL");

    const second = await spawnGateway("node", env);
    const tasks = await settled(second.url, "style", ids);
    expect(tasks.map((task) => task.status)).toEqual(["succeeded", "succeeded"]);
    await expectCleanEnd(second.url, tasks, data.env.DATA_DIR!);
    expect(fake.counters.views).toBe(2);
  }, 120_000);
});

describe("a replica gone for good (two gateway processes on MySQL and Redis)", () => {
  it.skipIf(mysqlUrl === null || redisUrl === null)("the live replica adopts its tasks once its lease lapses and ends each once", async () => {
    const fake = await fakeForTest({ paused: true });
    const shared = {
      DATABASE_URL: mysqlUrl!,
      DATABASE_PREFIX: uniqueDatabasePrefix(),
      REDIS_URL: redisUrl!,
      REDIS_CHANNEL: `aipack-test:${randomUUID()}`,
      COMFY_SERVERS: `gpu1=${fake.url}`,
      LEASE_TTL_MS: "1500",
      RECONCILE_INTERVAL_MS: "300",
    };
    const dirA = tempDir();
    const dirB = tempDir();
    onTestFinished(() => (dirA.cleanup(), dirB.cleanup()));
    const a = await spawnGateway("node", { ...shared, DATA_DIR: dirA.dir, INSTANCE_ID: "replica-gone" });
    const b = await spawnGateway("node", { ...shared, DATA_DIR: dirB.dir, INSTANCE_ID: "replica-live" });
    await serverUp(a.url);
    const { ids } = await submitMany(a.url, 2);
    // Both on the server (handed over by a, the dispatcher) before it dies: its tasks there are adopted.
    for (const id of ids) await untilDispatched(a.url, "style", id);
    await a.stop("SIGKILL");
    fake.setOptions({ paused: false });

    const tasks = await settled(b.url, "style", ids, 30_000);
    expect(tasks.map((task) => task.status)).toEqual(["succeeded", "succeeded"]);
    await expectCleanEnd(b.url, tasks, dirB.dir);
    expect(fake.counters.views).toBe(2);
    // Info lines reach stdout in blocks, at most 200 ms late.
    await expect.poll(() => b.output()).toContain('"message":"reconciler adopted tasks"');
  }, 120_000);
});
