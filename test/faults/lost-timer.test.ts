import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import type { memoryLogger } from "../../src/lib/logger.ts";
import { startTestServer } from "../support/test-server.ts";
import { untilDispatched } from "../support/task-client.ts";
import { readTask, settled, submitMany } from "./fault-support.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const requeuedLog = "tasks back in the queue: comfy server lost before they started";
type Logger = ReturnType<typeof memoryLogger>;
const metricsToken = "metrics-token-0123456789";

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
}

/** Waits until the gateway's stream to `server` came back after a drop. */
async function streamBack(logger: Logger, server: string): Promise<void> {
  await expect.poll(() => logger.entries.some((e) => e.message === "comfy stream reconnected" && e.fields?.server === server), { timeout: 15_000 }).toBe(true);
}

/** Waits until the gateway gave up on `server` and put its unstarted tasks back in its queue. */
async function givenUp(logger: Logger, server: string): Promise<void> {
  await expect.poll(() => logger.entries.some((e) => e.message === requeuedLog && e.fields?.server === server), { timeout: 15_000 }).toBe(true);
}

// COMFY_LOST_AFTER_MS is well above the first reconnect's delay (250–500 ms): a dropped stream is
// back long before the server would be given up on.
describe("COMFY_LOST_AFTER_MS counts from a loss the stream has not come back from", () => {
  it("a stream that dropped and came back does not give its server up when the time passes", async () => {
    const kept = await fakeForTest({ paused: true });
    const witness = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `kept=${kept.url},witness=${witness.url}`, COMFY_LOST_AFTER_MS: "3000" });
    const { ids } = await submitMany(gw.url, 4, "lost-timer-kept");
    const servers = await Promise.all(ids.map((id) => untilDispatched(gw.url, "style", id)));
    const onKept = ids.filter((_, i) => servers[i] === "kept");
    expect(onKept).toHaveLength(2);
    kept.dropConnections();
    await streamBack(gw.logger, "kept");
    // The witness goes away after the drop: once it is given up on, so would the dropped server have been.
    await witness.kill();
    await givenUp(gw.logger, "witness");

    expect(gw.logger.entries.filter((e) => e.message === requeuedLog && e.fields?.server === "kept")).toEqual([]);
    for (const id of onKept) expect(await readTask(gw.url, "style", id)).toMatchObject({ status: "queued", server: "kept" });
  });

  it("a server whose stream dropped and came back is still given up on when it goes away later", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "3000" });
    const { ids } = await submitMany(gw.url, 1, "lost-timer-later");
    await untilDispatched(gw.url, "style", ids[0]!);
    fake.dropConnections();
    await streamBack(gw.logger, "gpu1");

    await fake.kill();
    await givenUp(gw.logger, "gpu1");
    expect(gw.logger.entries).toContainEqual({ level: "info", message: requeuedLog, fields: { server: "gpu1", count: 1 } });
  });
});

// Early scheduling: a task stays with the server it was sent to, so a lost server's tasks are failed.
describe("a server given up on under early scheduling", () => {
  it("its queued task is failed, saying the server went away, and none is put back in the gateway's queue", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "200", SCHEDULING: "early" });
    const { ids } = await submitMany(gw.url, 1, "lost-early");
    await fake.kill();

    const [task] = await settled(gw.url, "style", ids);
    expect(task).toMatchObject({ status: "failed", error: "The ComfyUI server gpu1 went away while this task was queued or running" });
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "tasks failed: comfy server lost")).toBe(true);
    expect(gw.logger.entries).toContainEqual({ level: "warn", message: "tasks failed: comfy server lost", fields: { server: "gpu1", count: 1 } });
    expect(gw.logger.entries.filter((e) => e.message === requeuedLog)).toEqual([]);
  });

  it("the loss is counted by server in aipack_tasks_failed_server_lost_total", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "200", SCHEDULING: "early", METRICS_TOKEN: metricsToken });
    const { ids } = await submitMany(gw.url, 1, "lost-early-metric");
    await fake.kill();
    await settled(gw.url, "style", ids);

    await expect.poll(() => scrape(gw.url)).toContain('aipack_tasks_failed_server_lost_total{server="gpu1"} 1');
  });
});

describe("a server given up on with only unstarted tasks (late scheduling)", () => {
  it("adds nothing to aipack_tasks_failed_server_lost_total", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "200", METRICS_TOKEN: metricsToken });
    const { ids } = await submitMany(gw.url, 1, "lost-late-metric");
    await untilDispatched(gw.url, "style", ids[0]!);
    await fake.kill();
    await givenUp(gw.logger, "gpu1");

    expect(await scrape(gw.url)).not.toContain('aipack_tasks_failed_server_lost_total{server="gpu1"}');
  });
});

describe("a server given up on while its task's database cannot be written", () => {
  it("counts the task failed, not put back in the gateway's queue", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "200" });
    const { ids } = await submitMany(gw.url, 1, "lost-no-database");
    await untilDispatched(gw.url, "style", ids[0]!);
    await gw.deps.controllers.get("style")!.close();
    await fake.kill();

    await expect.poll(() => gw.logger.entries.some((e) => /comfy server lost/.test(e.message)), { timeout: 15_000 }).toBe(true);
    expect(gw.logger.entries.filter((e) => /comfy server lost/.test(e.message))).toEqual([
      { level: "warn", message: "tasks failed: comfy server lost", fields: { server: "gpu1", count: 1 } },
    ]);
  });
});
