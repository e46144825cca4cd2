import { randomUUID } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest, tracedWorkflows } from "../../test/fake-comfy/helpers.ts";
import { closedPortUrl, silentListener } from "../../test/fake-comfy/net-listeners.ts";
import { poolSnapshotSchema } from "./schemas.ts";
import { ComfyPool, type ComfyPoolOptions } from "./server-pool.ts";

function poolForTest(options: ComfyPoolOptions): ComfyPool {
  const pool = new ComfyPool({ checkTimeoutMs: 300, ...options });
  onTestFinished(() => pool.close());
  return pool;
}

describe("ComfyPool health checks", () => {
  it("reports which check fails for each kind of broken server and never picks them", async () => {
    const healthy = await fakeForTest();
    const failing = await fakeForTest({ fail500: true });
    const pool = poolForTest({
      downAfter: 1,
      servers: [
        { name: "healthy", url: healthy.url },
        { name: "closed", url: await closedPortUrl() },
        { name: "nxdomain", url: `http://comfy-${randomUUID().slice(0, 8)}.invalid:8188` },
        { name: "silent", url: await silentListener() },
        { name: "http500", url: failing.url },
      ],
    });
    const snap = poolSnapshotSchema.parse(await pool.refresh());
    const byId = Object.fromEntries(snap.servers.map((s) => [s.id, s]));
    expect(snap).toMatchObject({ available: 1, total: 5 });
    expect(byId.healthy).toMatchObject({
      state: "up",
      healthy: true,
      checks: { host: { ok: true }, port: { ok: true }, api: { ok: true } },
      queue: { running: 0, pending: 0 },
      comfyuiVersion: "0.3.14",
      device: { name: expect.stringContaining("GPU"), vramFree: expect.any(Number) },
      features: { clientPromptId: false, progressState: false, previewMetadata: false, jobsApi: false },
    });
    expect(byId.healthy?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(byId.closed).toMatchObject({ state: "down", checks: { host: { ok: true }, port: { ok: false, error: "connection refused" }, api: { ok: false } } });
    expect(byId.nxdomain).toMatchObject({ state: "down", checks: { host: { ok: false, error: expect.stringContaining("DNS") }, port: { ok: false }, api: { ok: false } } });
    expect(byId.silent).toMatchObject({ state: "down", checks: { host: { ok: true }, port: { ok: true }, api: { ok: false, error: expect.stringContaining("timed out") } } });
    expect(byId.http500).toMatchObject({ state: "down", checks: { host: { ok: true }, port: { ok: true }, api: { ok: false, error: expect.stringContaining("HTTP 500") } } });
    for (let i = 0; i < 6; i++) expect((await pool.pick())?.id).toBe("healthy");
    expect(await pool.pick({ exclude: ["healthy"] })).toBeNull();
  });

  it("a current server reports its features; an unknown server is not pickable before its first check", async () => {
    const fake = await fakeForTest({ version: "current" });
    const pool = poolForTest({ servers: [{ name: "new", url: fake.url }] });
    expect(pool.snapshot().servers[0]).toMatchObject({ state: "unknown", healthy: false, checkedAt: null });
    expect(await pool.pick()).toBeNull();
    await pool.refresh();
    expect(pool.snapshot().servers[0]?.features).toEqual({ clientPromptId: true, progressState: true, previewMetadata: true, jobsApi: true });
  });

  it("marks a dying server down after N failures, and uses it again after one success", async () => {
    const fake = await fakeForTest();
    const pool = poolForTest({ downAfter: 2, servers: [{ name: "a", url: fake.url }] });
    await pool.refresh();
    expect((await pool.pick())?.id).toBe("a");
    await fake.kill();
    await pool.refresh();
    expect(pool.snapshot().servers[0]).toMatchObject({ state: "up", consecutiveFailures: 1 });
    await pool.refresh();
    expect(pool.snapshot().servers[0]).toMatchObject({ state: "down", consecutiveFailures: 2, checks: { port: { ok: false } } });
    expect(await pool.pick()).toBeNull();
    await fake.start();
    await pool.refresh();
    expect(pool.snapshot()).toMatchObject({ available: 1, servers: [{ state: "up", consecutiveFailures: 0 }] });
    expect((await pool.pick())?.id).toBe("a");
  });

  it("coalesces concurrent refreshes into one check per server", async () => {
    const fake = await fakeForTest();
    const pool = poolForTest({ servers: [{ url: fake.url }] });
    await Promise.all([pool.refresh(), pool.refresh(), pool.refresh(pool.ids()[0])]);
    expect(fake.counters.systemStatsReads).toBe(1);
    expect(fake.counters.queueReads).toBe(1);
    await pool.refresh();
    expect(fake.counters.systemStatsReads).toBe(2);
    expect(fake.counters.objectInfoReads).toBe(1);
  });

  it("checks on a jittered interval until stop()", async () => {
    const fake = await fakeForTest();
    const delays: number[] = [];
    let pending: (() => void) | null = null;
    const pool = poolForTest({
      servers: [{ url: fake.url }],
      intervalMs: 1_000,
      jitterRatio: 0.2,
      random: () => 1,
      timers: { setTimeout: (fn, ms) => ((pending = fn), delays.push(ms)), clearTimeout: () => (pending = null) },
    });
    pool.start();
    await expect.poll(() => delays.length).toBe(1);
    expect(delays[0]).toBeCloseTo(1_200);
    expect(fake.counters.systemStatsReads).toBe(1);
    (pending as (() => void) | null)?.();
    await expect.poll(() => delays.length).toBe(2);
    expect(fake.counters.systemStatsReads).toBe(2);
    pool.stop();
    expect(pending).toBeNull();
  });
});

describe("ComfyPool scheduling", () => {
  const empty = tracedWorkflows().empty as never;

  it("spreads load with the prompts queued through its clients, then follows the real queues", async () => {
    const fakes = [await fakeForTest({ paused: true }), await fakeForTest({ paused: true }), await fakeForTest({ paused: true })];
    const pool = poolForTest({ servers: fakes.map((f, i) => ({ name: `s${i}`, url: f.url })) });
    await pool.refresh();
    const counts: Record<string, number> = {};
    for (let i = 0; i < 9; i++) {
      const picked = await pool.pick();
      if (picked === null) throw new Error("nothing picked");
      counts[picked.id] = (counts[picked.id] ?? 0) + 1;
      await picked.client.queuePrompt({ prompt: empty, clientId: "c" });
    }
    expect(counts).toEqual({ s0: 3, s1: 3, s2: 3 });
    expect(pool.snapshot().servers.map((s) => s.localPending)).toEqual([3, 3, 3]);
    // The check lists them: they leave the local count instead of counting twice.
    await pool.refresh();
    expect(pool.snapshot().servers.map((s) => [s.id, s.queue, s.localPending])).toEqual([
      ["s0", { running: 0, pending: 3 }, 0],
      ["s1", { running: 0, pending: 3 }, 0],
      ["s2", { running: 0, pending: 3 }, 0],
    ]);
    // Work queued on s0 by someone else shows at the next check.
    await fetch(`${fakes[0]?.url}/prompt`, { method: "POST", body: JSON.stringify({ prompt: tracedWorkflows().empty, client_id: "other" }) });
    await pool.refresh();
    const picks = [await pool.pick(), await pool.pick(), await pool.pick(), await pool.pick()].map((p) => p?.id);
    expect(picks.filter((id) => id === "s0")).toEqual([]);
    expect(new Set(picks)).toEqual(new Set(["s1", "s2"]));
  });

  it("honours weights, required tags and required node classes", async () => {
    const a = await fakeForTest({ paused: true });
    const b = await fakeForTest({ paused: true });
    const pool = poolForTest({ servers: [{ name: "big", url: a.url, weight: 2, tags: ["sdxl"] }, { name: "small", url: b.url }] });
    await pool.refresh();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const picked = await pool.pick();
      ids.push(picked?.id ?? "none");
      await picked?.client.queuePrompt({ prompt: empty, clientId: "c" });
    }
    expect(ids.filter((id) => id === "big")).toHaveLength(4);
    // However loaded "big" gets, a job that needs the tag never goes to "small", which lacks it.
    for (let i = 0; i < 5; i++) {
      const picked = await pool.pick({ requiredTags: ["sdxl"], exclude: [] });
      expect(picked?.id).toBe("big");
      await picked?.client.queuePrompt({ prompt: empty, clientId: "c" });
    }
    expect(pool.snapshot().servers.map((s) => s.localPending)).toEqual([9, 2]);
    expect(await pool.pick({ requiredTags: ["sdxl"], exclude: ["big"] })).toBeNull();
    expect(await pool.pick({ requiredTags: ["flux"] })).toBeNull();
    expect((await pool.pick({ requiredNodes: ["KSampler", "LoadImage"] }))?.id).toBeDefined();
    expect(await pool.pick({ requiredNodes: ["NoSuchNode"] })).toBeNull();
  });

  it("never picks a server lacking a required node class, and uses it once it offers the class after a reconnect", async () => {
    const full = await fakeForTest({ paused: true });
    const restricted = await fakeForTest({ paused: true, nodeClasses: ["LoadImage", "SaveImage", "EmptyImage", "ImageInvert"] });
    const pool = poolForTest({ servers: [{ name: "full", url: full.url }, { name: "restricted", url: restricted.url }], stream: { minBackoffMs: 20, maxBackoffMs: 50 } });
    await pool.refresh();
    expect(pool.snapshot().servers.map((s) => s.nodes.count)).toEqual([13, 4]);
    // "full" gets ever busier, yet a KSampler job never lands on "restricted".
    for (let i = 0; i < 5; i++) {
      const picked = await pool.pick({ requiredNodes: ["KSampler"] });
      expect(picked?.id).toBe("full");
      await picked?.client.queuePrompt({ prompt: empty, clientId: "c" });
    }
    expect((await pool.pick({ requiredNodes: ["ImageInvert"] }))?.id).toBe("restricted");
    expect(await pool.pick({ requiredNodes: ["KSampler"], exclude: ["full"] })).toBeNull();
    // The server comes back with the class installed; the reconnect re-reads /object_info.
    await pool.streamFor("restricted").ready();
    restricted.setOptions({ nodeClasses: null });
    restricted.dropConnections();
    await expect.poll(() => pool.snapshot().servers[1]?.nodes.count, { timeout: 3_000 }).toBe(13);
    expect((await pool.pick({ requiredNodes: ["KSampler"] }))?.id).toBe("restricted");
  });

  it("sends a job needing a model file only to servers that have it, and learns a file added later", async () => {
    const sd15 = await fakeForTest({ paused: true, checkpoints: ["v1-5-pruned-emaonly.safetensors"] });
    const sdxl = await fakeForTest({ paused: true, checkpoints: ["sd_xl_base_1.0.safetensors"] });
    const pool = poolForTest({ servers: [{ name: "sd15", url: sd15.url }, { name: "sdxl", url: sdxl.url }], stream: { minBackoffMs: 20, maxBackoffMs: 50 } });
    await pool.refresh();
    for (let i = 0; i < 3; i++) {
      const picked = await pool.pick({ requiredModels: ["sd_xl_base_1.0.safetensors"] });
      expect(picked?.id).toBe("sdxl");
      await picked?.client.queuePrompt({ prompt: empty, clientId: "c" });
    }
    expect((await pool.pick({ requiredModels: ["v1-5-pruned-emaonly.safetensors"] }))?.id).toBe("sd15");
    expect(await pool.pick({ requiredModels: ["flux1-dev.safetensors"] })).toBeNull();
    // The file is copied onto sd15 and the server restarted: the reconnect re-reads /object_info.
    await pool.streamFor("sd15").ready();
    sd15.setOptions({ checkpoints: ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"] });
    sd15.dropConnections();
    await expect.poll(async () => (await pool.pick({ requiredModels: ["sd_xl_base_1.0.safetensors"] }))?.id, { timeout: 3_000 }).toBe("sd15");
  });

  it("owns one client and one lazily started stream per server, with the injected client id", async () => {
    const fake = await fakeForTest();
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url }], clientId: () => "gateway-test", stream: { minBackoffMs: 20 } });
    expect(pool.clientFor("a").baseUrl).toBe(fake.url);
    expect(() => pool.clientFor("nope")).toThrow(/unknown/);
    const stream = pool.streamFor("a");
    expect(pool.streamFor("a")).toBe(stream);
    expect(stream.clientId).toBe("gateway-test");
    await stream.ready();
    expect(fake.counters.wsConnections).toBe(1);
    const reads = fake.counters.objectInfoReads;
    fake.dropConnections();
    await expect.poll(() => fake.counters.objectInfoReads, { timeout: 3_000 }).toBe(reads + 1);
  });
});
