import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";
import { createUser, submitTask, untilDispatched } from "../support/task-client.ts";
import { expectCleanEnd, image, readTask, settled, submitMany, userTasks } from "./fault-support.ts";

// Faults of a ComfyUI server, injected for real on the fake (a real HTTP + WebSocket server).
describe.each(dialectCases)("ComfyUI faults on $name", (dialect) => {
  it.skipIf(dialect.skip)("killed mid-job: the running task ends failed once its stream stays away; the others wait in the gateway for a server", async () => {
    const fake = await fakeForTest({ paused: true, nodeDelayMs: { ImageInvert: 20_000 } });
    const gw = await startTestServer(dialect, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "1500" });
    const { ids } = await submitMany(gw.url, 3);
    await untilDispatched(gw.url, "style", ids[1]!); // the running one and one prepared on the server
    fake.setOptions({ paused: false });
    // Two handed over in one pass can reach ComfyUI in either order: whichever runs is the one lost.
    const statuses = async () => Promise.all(ids.slice(0, 2).map(async (id) => (await readTask(gw.url, "style", id))?.status));
    await expect.poll(statuses, { timeout: 15_000 }).toContain("running");
    const running = ids[(await statuses()).indexOf("running")]!;
    await fake.kill();

    const tasks = await settled(gw.url, "style", [running]);
    expect(tasks[0]).toMatchObject({ status: "failed", error: expect.stringContaining("went away") });
    await expectCleanEnd(gw.url, tasks, gw.config.dataDir);
    await expect.poll(() => gw.logger.entries.some((e) => e.message === "tasks failed: comfy server lost")).toBe(true);
    expect(gw.logger.entries).toContainEqual({ level: "warn", message: "tasks failed: comfy server lost", fields: { server: "gpu1", count: 1 } });
    expect(gw.logger.entries).toContainEqual({ level: "info", message: "tasks back in the queue: comfy server lost before they started", fields: { server: "gpu1", count: 1 } });
    // The prepared one went back to the queue; with no server left, both wait and say why.
    for (const id of ids.filter((id) => id !== running)) {
      await expect.poll(async () => ((await readTask(gw.url, "style", id)) as { waitReason?: string } | null)?.waitReason, { timeout: 15_000 }).toBe("no ComfyUI server is up");
    }
  });

  it.skipIf(dialect.skip)("its stream cut mid-job: the task still succeeds, its output fetched and stored once", async () => {
    const fake = await fakeForTest({ closeSocketsMidRun: true, nodeDelayMs: { ImageInvert: 300 } });
    const gw = await startTestServer(dialect, { COMFY_SERVERS: `gpu1=${fake.url}` });
    const { ids } = await submitMany(gw.url, 1);

    const tasks = await settled(gw.url, "style", ids);
    expect(tasks[0]?.status).toBe("succeeded");
    await expectCleanEnd(gw.url, tasks, gw.config.dataDir);
    expect(fake.counters.views).toBe(1);
    expect(fake.counters.wsConnections).toBeGreaterThanOrEqual(2);
  });

  it.skipIf(dialect.skip)("hanging (accepts, never answers) when the results are due: the task ends failed, nothing stored", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(dialect, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_TIMEOUT_MS: "1000" });
    const { ids } = await submitMany(gw.url, 1);
    await untilDispatched(gw.url, "style", ids[0]!);
    fake.setOptions({ hang: true, paused: false }); // the run goes on and its messages flow; HTTP answers stop

    const tasks = await settled(gw.url, "style", ids);
    expect(tasks[0]).toMatchObject({ status: "failed", error: expect.stringContaining("could not be fetched") });
    await expectCleanEnd(gw.url, tasks, gw.config.dataDir);
  });

  it.skipIf(dialect.skip)("answering garbage (an HTML page) for the results: the task ends failed, the page is not stored as an image", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(dialect, { COMFY_SERVERS: `gpu1=${fake.url}` });
    const { ids } = await submitMany(gw.url, 1);
    await untilDispatched(gw.url, "style", ids[0]!);
    fake.setOptions({ garbage: true, paused: false });

    const tasks = await settled(gw.url, "style", ids);
    expect(tasks[0]).toMatchObject({ status: "failed", error: expect.stringContaining("could not be fetched") });
    // The operator's log says why: the answer was no image.
    expect(gw.logger.entries).toContainEqual({
      level: "error",
      message: "could not store results",
      fields: expect.objectContaining({ taskId: ids[0], error: expect.stringMatching(/\/view answered \d+ bytes that are no image/) }),
    });
    await expectCleanEnd(gw.url, tasks, gw.config.dataDir);
  });

  // Early binding: the submit itself talks to ComfyUI (late scheduling answers 202 and retries the dispatch).
  it.skipIf(dialect.skip)("answering garbage to a submit: 503 comfy_unavailable, and no task left behind", async () => {
    const fake = await fakeForTest();
    const gw = await startTestServer(dialect, { SCHEDULING: "early", COMFY_SERVERS: `gpu1=${fake.url}` });
    fake.setOptions({ garbage: true });
    const userId = await createUser(gw.url, "style", "garbage-submit");
    const res = await submitTask(gw.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatchObject({
      code: "comfy_unavailable",
      message: "No ComfyUI server can take this task now (the server tried failed); try again shortly",
    });
    expect(await userTasks(gw.url, userId)).toEqual([]);
  });
});
