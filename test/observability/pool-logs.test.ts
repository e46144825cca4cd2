import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

describe("pool state changes in the log", () => {
  it("a server that dies: one 'comfy server down' line naming the failed check and its error", async () => {
    const fake = await fakeForTest();
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, POOL_FAILURES_BEFORE_DOWN: "1" });
    expect(gw.logger.entries).toContainEqual({ level: "info", message: "comfy server up", fields: { server: "gpu1", latencyMs: expect.any(Number) } });
    await fake.kill();
    await gw.deps.pool.refresh();
    await gw.deps.pool.refresh();
    const down = gw.logger.entries.filter((entry) => entry.message === "comfy server down");
    expect(down).toEqual([
      { level: "warn", message: "comfy server down", fields: { server: "gpu1", failedCheck: "port", error: expect.stringMatching(/ECONNREFUSED|refused/), consecutiveFailures: 1 } },
    ]);
  });

  it("a stream that drops and comes back: a 'lost' and a 'reconnected' line, and the reconnect counted", async () => {
    const fake = await fakeForTest();
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, METRICS_TOKEN: "metrics-token-0123456789" });
    await gw.deps.pool.streamFor("gpu1").ready();
    fake.dropConnections();
    await expect.poll(() => gw.logger.entries.some((entry) => entry.message === "comfy stream reconnected"), { timeout: 15_000 }).toBe(true);
    expect(gw.logger.entries.find((entry) => entry.message === "comfy stream lost")?.fields).toMatchObject({ server: "gpu1" });
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: "Bearer metrics-token-0123456789" } })).text();
    expect(metrics).toContain('aipack_comfy_stream_reconnects_total{server="gpu1"} 1');
  });
});
