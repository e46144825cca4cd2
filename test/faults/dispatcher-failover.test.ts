import { randomUUID } from "node:crypto";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { apiFetch } from "../support/credentials.ts";
import { mysqlUrl, tempDir, uniqueDatabasePrefix } from "../support/dialects.ts";
import { spawnGateway } from "../support/spawn-gateway.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask, untilDispatched } from "../support/task-client.ts";

const redisUrl = inject("redisUrl");
const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

describe("the dispatcher's lease between two gateway processes (MySQL and Redis)", () => {
  it.skipIf(mysqlUrl === null || redisUrl === null)("the dispatching replica killed: the other takes over, no task dispatched twice, none left behind", async () => {
    const fake = await fakeForTest({ paused: true });
    // One data folder: the replicas share their stored inputs, as several replicas must (OSS or a shared volume).
    const data = tempDir();
    onTestFinished(() => data.cleanup());
    const shared = {
      DATA_DIR: data.dir,
      DATABASE_URL: mysqlUrl!,
      DATABASE_PREFIX: uniqueDatabasePrefix(),
      REDIS_URL: redisUrl!,
      REDIS_CHANNEL: `aipack-test:${randomUUID()}`,
      COMFY_SERVERS: `gpu1=${fake.url}`,
      DISPATCH_DEPTH: "0",
      DISPATCH_LEASE_MS: "900",
      DISPATCH_RESCAN_MS: "100",
      LEASE_TTL_MS: "900",
      RECONCILE_INTERVAL_MS: "200",
    };
    const a = await spawnGateway("node", { ...shared, INSTANCE_ID: "dispatcher-first" });
    await expect.poll(() => a.output().includes('"message":"this replica dispatches the queue"'), { timeout: 10_000 }).toBe(true);
    const b = await spawnGateway("node", { ...shared, INSTANCE_ID: "dispatcher-next" });
    const userId = await createUser(b.url, "style", "failover");
    const ids: string[] = [];
    // Submitted through the replica that does not dispatch: every replica accepts submits.
    for (let i = 0; i < 4; i++) ids.push((await (await submitTask(b.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()).task.id);
    await untilDispatched(b.url, "style", ids[0]!);
    // Info lines reach stdout in blocks (at most 200 ms late): once b's access-log lines of the
    // requests above are out, whatever b logged before them is out too.
    const requestLines = () => b.output().split("\n").filter((line) => line.includes('"message":"request"')).length;
    await expect.poll(requestLines).toBeGreaterThanOrEqual(6);
    expect(b.output()).not.toContain('"message":"this replica dispatches the queue"');
    await a.stop("SIGKILL");
    fake.setOptions({ paused: false });

    for (const id of ids) {
      const answers = await pollQueue(b.url, "style", id, isFinalStatus, 20, 3_000);
      expect(answers.at(-1)?.status).toBe("succeeded");
    }
    await expect.poll(() => b.output()).toContain('"message":"this replica dispatches the queue"');
    // Each task went to ComfyUI once and ran once.
    expect(fake.counters.promptPosts).toBe(4);
    expect(fake.counters.promptsFinished).toBe(4);
    for (const id of ids) {
      const { task } = await (await apiFetch(`${b.url}/api/tasks/${id}?frontend=style`)).json();
      expect(task.outputUrls).toHaveLength(1);
    }
  }, 120_000);
});
