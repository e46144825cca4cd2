import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest } from "../../test/fake-comfy/helpers.ts";
import { ComfyPool } from "./server-pool.ts";
import type { ComfyPoolOptions } from "./pool-options.ts";

function poolForTest(options: ComfyPoolOptions): ComfyPool {
  const pool = new ComfyPool({ checkTimeoutMs: 2_000, ...options });
  onTestFinished(() => pool.close());
  return pool;
}

/** The fake's own /system_stats, with `devices` replaced. */
async function statsWithDevices(url: string, devices: unknown[]): Promise<string> {
  const stats = (await (await fetch(`${url}/system_stats`)).json()) as Record<string, unknown>;
  return JSON.stringify({ ...stats, devices });
}

// What one server's status says, from its checks (the record behind GET /api/servers).
describe("a server's status", () => {
  it("before its first check says that no check has run yet, and shows its tags", async () => {
    const fake = await fakeForTest();
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url, tags: ["sdxl", "fast"] }] });
    expect(pool.snapshot().servers[0]).toMatchObject({
      state: "unknown",
      tags: ["sdxl", "fast"],
      checks: { host: { ok: false, error: "not checked yet" }, port: { ok: false, error: "not checked yet" }, api: { ok: false, error: "not checked yet" } },
    });
  });

  it("gives the first GPU's name and its free and total memory", async () => {
    const fake = await fakeForTest();
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url }] });
    await pool.refresh();
    expect(pool.snapshot().servers[0]?.device).toEqual({ name: "cuda:0 Fake GPU 24GB : cudaMallocAsync", vramFree: 24_000_000_000, vramTotal: 25_769_803_776 });
  });

  it("of a server that reports no GPU is up, with no device", async () => {
    const fake = await fakeForTest();
    fake.setOptions({ routeAnswers: { "/system_stats": { status: 200, body: await statsWithDevices(fake.url, []), contentType: "application/json" } } });
    const pool = poolForTest({ servers: [{ name: "cpu", url: fake.url }] });
    await pool.refresh();
    expect(pool.snapshot().servers[0]).toMatchObject({ state: "up", healthy: true, device: null });
  });

  it("of a server failing its first check is down, and its node list and features are not asked for", async () => {
    const fake = await fakeForTest({ failRoutes: ["/system_stats"] });
    const pool = poolForTest({ servers: [{ name: "a", url: fake.url }] });
    await pool.refresh();
    expect(pool.snapshot().servers[0]).toMatchObject({ state: "down", features: null });
    expect(fake.counters.objectInfoReads).toBe(0);
  });
});
