import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest, queue, tracedWorkflows } from "../../test/fake-comfy/helpers.ts";
import { closedPortUrl, silentListener } from "../../test/fake-comfy/net-listeners.ts";
import { checkTimeoutFor, ComfyPool, type ComfyPoolOptions } from "./server-pool.ts";

const empty = tracedWorkflows().empty as never;

function poolForTest(options: ComfyPoolOptions): ComfyPool {
  const pool = new ComfyPool(options);
  onTestFinished(() => pool.close());
  return pool;
}

describe("ComfyPool node lists", () => {
  it("reads /object_info with the request timeout, not the short probe timeout", async () => {
    // The probe timeout leaves a loaded machine room for the healthy checks; /object_info outlasts
    // it by far and still arrives within the request timeout.
    const fake = await fakeForTest({ routeDelayMs: { "/object_info": 2_500 } });
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url }], checkTimeoutMs: 1_000, requestTimeoutMs: 15_000 });
    await pool.refresh();
    expect(pool.snapshot().servers[0]?.nodes).toMatchObject({ known: true, count: 13, error: null });
    expect((await pool.pick({ requiredNodes: ["KSampler"] }))?.id).toBe("a");
  });

  it("shows a failing /object_info in the status and backs off instead of re-reading it per pick", async () => {
    const fake = await fakeForTest({ failRoutes: ["/object_info"] });
    let now = 1_000_000;
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url }], checkTimeoutMs: 500, now: () => now, random: () => 0 });
    await pool.refresh();
    expect(pool.snapshot().servers[0]).toMatchObject({ state: "up", nodes: { known: false, count: null, error: expect.stringContaining("500"), retryAt: now + 1_000 } });
    expect(fake.counters.objectInfoReads).toBe(1);
    for (let i = 0; i < 3; i++) expect(await pool.pick({ requiredNodes: ["KSampler"] })).toBeNull();
    expect(fake.counters.objectInfoReads).toBe(1);
    now += 1_000;
    expect(await pool.pick({ requiredNodes: ["KSampler"] })).toBeNull();
    expect(fake.counters.objectInfoReads).toBe(2);
    // The next step waits twice as long; then the list arrives and the server is usable.
    fake.setOptions({ failRoutes: [] });
    now += 1_000;
    expect(await pool.pick({ requiredNodes: ["KSampler"] })).toBeNull();
    now += 1_000;
    expect((await pool.pick({ requiredNodes: ["KSampler"] }))?.id).toBe("a");
    expect(fake.counters.objectInfoReads).toBe(3);
    expect(pool.snapshot().servers[0]?.nodes).toMatchObject({ known: true, error: null, retryAt: null });
  });

  it("derives the probe timeout from the request timeout, capped at 5 s", async () => {
    expect(checkTimeoutFor(10_000)).toBe(5_000);
    expect(checkTimeoutFor(800)).toBe(800);
    const pool = poolForTest({ servers: [{ name: "silent", url: await silentListener() }], requestTimeoutMs: 250 });
    await pool.refresh();
    expect(pool.snapshot().servers[0]?.checks.api.error).toContain("timed out after 250 ms");
  });
});

describe("ComfyPool state and load", () => {
  it("a server never seen up is down after its first failed check, whatever downAfter says", async () => {
    const pool = poolForTest({ servers: [{ name: "never", url: await closedPortUrl() }], checkTimeoutMs: 300, downAfter: 3 });
    await pool.refresh();
    expect(pool.snapshot().servers[0]).toMatchObject({ state: "down", healthy: false, consecutiveFailures: 1 });
  });

  it("status messages keep the load fresh between checks: work queued and finished elsewhere", async () => {
    const fake = await fakeForTest({ paused: true });
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url }], checkTimeoutMs: 500 });
    await pool.refresh();
    await pool.streamFor("a").ready();
    const checks = fake.counters.systemStatsReads;
    await queue(fake, empty, "someone-else");
    await queue(fake, empty, "someone-else");
    await expect.poll(() => pool.snapshot().servers[0]?.queue).toEqual({ running: 1, pending: 1 });
    fake.setOptions({ paused: false });
    await expect.poll(() => pool.snapshot().servers[0]?.queue).toEqual({ running: 0, pending: 0 });
    expect(fake.counters.systemStatsReads).toBe(checks);
  });

  it("a prompt queued through the pool counts once, whether its status or the check comes first", async () => {
    const fake = await fakeForTest({ paused: true });
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url }], checkTimeoutMs: 1_000 });
    await pool.refresh();
    // Queued while a check is in flight, before the server reads its queue for it.
    fake.setOptions({ holdRoutes: ["/queue"] });
    const check = pool.refresh();
    await expect.poll(() => fake.counters.held).toBe(1);
    await pool.clientFor("a").queuePrompt({ prompt: empty, clientId: "c" });
    expect(pool.snapshot().servers[0]).toMatchObject({ queue: { running: 0, pending: 0 }, localPending: 1 });
    fake.setOptions({ holdRoutes: [] });
    await check;
    expect(pool.snapshot().servers[0]).toMatchObject({ queue: { running: 0, pending: 1 }, localPending: 0 });
    // With the stream open, the prompt's own status message already counts it.
    await pool.streamFor("a").ready();
    await pool.clientFor("a").queuePrompt({ prompt: empty, clientId: "c" });
    await expect.poll(() => pool.snapshot().servers[0]?.queue).toEqual({ running: 1, pending: 1 });
    expect(pool.snapshot().servers[0]?.localPending).toBe(0);
  });
});

describe("ComfyPool capabilities", () => {
  it("keeps one capability record per server, learned again when its stream reconnects", async () => {
    const fake = await fakeForTest();
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url }], checkTimeoutMs: 500, stream: { minBackoffMs: 20, maxBackoffMs: 50 } });
    await pool.refresh();
    expect(pool.snapshot().servers[0]?.features).toEqual({ clientPromptId: false, progressState: false, previewMetadata: false, jobsApi: false });
    await pool.streamFor("a").ready();
    // Upgraded in place: the reconnect is the first sign of it.
    fake.setOptions({ version: "current" });
    fake.dropConnections();
    await expect.poll(() => pool.snapshot().servers[0]?.features).toEqual({ clientPromptId: true, progressState: true, previewMetadata: true, jobsApi: true });
    const queued = await pool.clientFor("a").queuePrompt({ prompt: empty, clientId: "c", promptId: "gateway-chosen" });
    expect(queued.promptId).toBe("gateway-chosen");
  });
});
