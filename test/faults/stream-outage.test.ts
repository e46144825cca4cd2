import { describe, expect, it } from "vitest";
import { fakeForTest, queue, tracedWorkflows } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";
import { untilDispatched } from "../support/task-client.ts";
import { readTask, settled, submitMany } from "./fault-support.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

// The server goes away long enough to be given up on, but comes back with its queue (a network
// outage, not a restart): the task that went back to the gateway's queue must not run twice.
describe("a ComfyUI server whose stream is away past COMFY_LOST_AFTER_MS and then returns with its queue", () => {
  it("its unstarted task goes back to the gateway's queue, its stale prompt is taken off the server, and it runs once", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "200" });
    const { ids } = await submitMany(gw.url, 1, "outage-user");
    await untilDispatched(gw.url, "style", ids[0]!);
    await fake.kill();
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "tasks back in the queue: comfy server lost before they started"), { timeout: 15_000 }).toBe(true);
    expect(gw.logger.entries).toContainEqual({ level: "info", message: "tasks back in the queue: comfy server lost before they started", fields: { server: "gpu1", count: 1 } });
    // Nothing was lost: no failure is reported for the server.
    expect(gw.logger.entries.filter((e) => e.message === "tasks failed: comfy server lost")).toEqual([]);

    await fake.start();
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "took back prompts that run elsewhere"), { timeout: 20_000 }).toBe(true);
    expect(gw.logger.entries).toContainEqual({ level: "info", message: "took back prompts that run elsewhere", fields: { server: "gpu1", count: 1 } });
    fake.setOptions({ paused: false });
    const [task] = await settled(gw.url, "style", ids);
    expect(task?.status).toBe("succeeded");
    // Nothing left on the server: had the stale prompt stayed, it would be queued or have run too.
    const remaining = async () => ((await (await fetch(`${fake.url}/prompt`)).json()) as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining;
    await expect.poll(remaining).toBe(0);
    expect(fake.counters.promptsFinished).toBe(1);
    expect(fake.counters.promptPosts).toBe(2);
  });
});

describe("a ComfyUI server that comes back but cannot say yet how a job ended", () => {
  it("keeps the task in doubt, logs it, and records the end once /history answers", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, RECONCILE_INTERVAL_MS: "100" });
    const { ids } = await submitMany(gw.url, 1, "doubt-user");
    await untilDispatched(gw.url, "style", ids[0]!);
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_pending: Array<[number, string]> };
    const promptId = queue.queue_pending[0]![1];
    await fake.kill();
    fake.setOptions({ paused: false, failRoutes: [`/history/${promptId}`] });
    // The run ends with nobody connected: only /history can tell.
    await expect.poll(() => fake.counters.promptsFinished).toBe(1);
    await fake.start();
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "reconcile failed; the reconciler retries"), { timeout: 20_000 }).toBe(true);
    expect(gw.logger.entries.find((e) => e.message === "reconcile failed; the reconciler retries")).toMatchObject({ level: "warn", fields: { taskId: ids[0], server: "gpu1" } });
    expect((await readTask(gw.url, "style", ids[0]!))?.status).not.toMatch(/succeeded|failed|cancelled/);
    fake.setOptions({ failRoutes: [] });
    const [task] = await settled(gw.url, "style", ids);
    expect(task?.status).toBe("succeeded");
  });

  it("a task out of doubt once its server answers is not failed when the doubt would have run out", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, RECONCILE_INTERVAL_MS: "100", COMFY_LOST_AFTER_MS: "1500" });
    const { ids } = await submitMany(gw.url, 2, "doubt-cleared");
    for (const id of ids) await untilDispatched(gw.url, "style", id);
    const db = gw.deps.controllers.get("style")!;
    const [answered, witness] = await Promise.all(ids.map(async (id) => ({ id, promptId: (await db.getTask(id))!.promptId! })));
    const doubted = (taskId: string) => () => gw.logger.entries.some((e) => e.message === "reconcile failed; the reconciler retries" && e.fields?.taskId === taskId);
    // The task's server cannot say how it stands at a reconnect, then can.
    fake.setOptions({ failRoutes: [`/history/${answered!.promptId}`] });
    fake.dropConnections();
    await expect.poll(doubted(answered!.id), { timeout: 15_000 }).toBe(true);
    // The witness falls in doubt after it and stays there until it is failed for it.
    fake.setOptions({ failRoutes: [`/history/${witness!.promptId}`] });
    fake.dropConnections();
    await expect.poll(doubted(witness!.id), { timeout: 15_000 }).toBe(true);
    const [failed] = await settled(gw.url, "style", [witness!.id]);
    expect(failed).toMatchObject({ status: "failed", error: expect.stringContaining("did not answer about this task") });

    expect(await readTask(gw.url, "style", answered!.id)).toMatchObject({ status: "queued", error: null });
  });
});

describe("a lost server that returns with other clients' prompts besides the gateway's", () => {
  it("takes back only its own prompt: another client's running and queued prompts stay", async () => {
    const fake = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const { invert } = tracedWorkflows();
    // Someone else (ComfyUI's own page) runs a job, held at its ImageInvert, and queues another.
    const othersRunning = await queue(fake, invert, "someone-else");
    const queueOf = async () => (await (await fetch(`${fake.url}/queue`)).json()) as { queue_running: Array<[number, string]>; queue_pending: Array<[number, string]> };
    await expect.poll(async () => (await queueOf()).queue_running.map((item) => item[1])).toEqual([othersRunning]);
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "200", DISPATCH_DEPTH: "2" });
    const { ids } = await submitMany(gw.url, 1, "outage-others");
    await untilDispatched(gw.url, "style", ids[0]!);
    const othersQueued = await queue(fake, invert, "someone-else");
    await fake.kill();
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "tasks back in the queue: comfy server lost before they started"), { timeout: 15_000 }).toBe(true);

    await fake.start();
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "took back prompts that run elsewhere"), { timeout: 20_000 }).toBe(true);
    expect(gw.logger.entries).toContainEqual({ level: "info", message: "took back prompts that run elsewhere", fields: { server: "gpu1", count: 1 } });
    const after = await queueOf();
    expect(after.queue_running.map((item) => item[1])).toEqual([othersRunning]);
    expect(after.queue_pending.map((item) => item[1])).toContain(othersQueued);
    expect(fake.counters.interrupts).toBe(0);
  });
});

describe("a lost server that returns but fails the gateway's /queue read", () => {
  it("logs that its stale prompts could not be taken back", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "200" });
    const { ids } = await submitMany(gw.url, 1, "outage-no-queue");
    await untilDispatched(gw.url, "style", ids[0]!);
    await fake.kill();
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "tasks back in the queue: comfy server lost before they started"), { timeout: 15_000 }).toBe(true);
    fake.setOptions({ failRoutes: ["/queue"] });

    await fake.start();
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "could not take back prompts from a returning server"), { timeout: 20_000 }).toBe(true);
    expect(gw.logger.entries).toContainEqual({
      level: "warn",
      message: "could not take back prompts from a returning server",
      fields: { server: "gpu1", error: expect.stringContaining("500") },
    });
  });
});
