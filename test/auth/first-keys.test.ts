import { describe, expect, it, onTestFinished } from "vitest";
import { createFirstKeys } from "../../src/auth/first-keys.ts";
import { loadConfig } from "../../src/config/config.ts";
import { knownFrontends } from "../../src/controllers/db-controller-map.ts";
import { memoryLogger } from "../../src/lib/logger.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { openControllers } from "../../src/server/build-deps.ts";
import { createTestGateway } from "../support/test-gateway.ts";
import { dialectCases, tempDir } from "../support/dialects.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

function firstStart(env: Record<string, string> = {}) {
  const data = tempDir();
  onTestFinished(data.cleanup);
  const config = loadConfig({ DATA_DIR: data.dir, ...env }, knownFrontends);
  const controllers = openControllers(config, systemClock);
  onTestFinished(async () => {
    await Promise.all([...controllers.values()].map((c) => c.close()));
  });
  const printed: string[] = [];
  const logger = memoryLogger();
  const run = () => createFirstKeys({ auth: config.auth, dataDir: config.dataDir, controllers, logger }, (text) => printed.push(text));
  return { run, printed, logger, env: { DATA_DIR: data.dir } };
}

describe("the first start with nothing configured", () => {
  it("makes an admin key and one key per frontend, printed once with how to make more", async () => {
    const start = firstStart();
    expect(await start.run()).toBe(true);
    expect(start.printed).toHaveLength(1);
    const text = start.printed[0]!;
    for (const scope of ["admin", ...knownFrontends]) expect(text).toMatch(new RegExp(`aipk_${scope}_[0-9a-f]{16}_`));
    expect(text).toContain("npm run keys -- create --frontend");
    expect(await start.run()).toBe(false);
    expect(start.printed).toHaveLength(1);
  });

  it("the printed keys work, and are never in a log line", async () => {
    const start = firstStart();
    await start.run();
    const styleKey = /aipk_style_\S+/.exec(start.printed[0]!)![0];
    const adminKey = /aipk_admin_\S+/.exec(start.printed[0]!)![0];
    for (const entry of start.logger.entries) expect(JSON.stringify(entry)).not.toMatch(/aipk_\w+_[0-9a-f]{16}_/);
    const { app } = await createTestGateway(sqlite, start.env);
    expect((await app.request("/api/workflows?frontend=style", { headers: { authorization: `Bearer ${styleKey}` } })).status).toBe(200);
    expect((await app.request("/api/workflows?frontend=logo", { headers: { authorization: `Bearer ${styleKey}` } })).status).toBe(403);
    const servers = await app.request("/api/servers?refresh=1", { headers: { authorization: `Bearer ${adminKey}` } });
    expect(servers.status).toBe(200);
  });

  it("makes nothing when ADMIN_KEY or API_KEYS configure keys", async () => {
    const start = firstStart({ ADMIN_KEY: "x".repeat(40) });
    expect(await start.run()).toBe(false);
    expect(start.printed).toEqual([]);
  });
});

describe("AUTH=off", () => {
  it("is refused with a HOST other than loopback", () => {
    expect(() => loadConfig({ AUTH: "off", HOST: "0.0.0.0" }, knownFrontends)).toThrow(/AUTH: "off" is only allowed with a loopback HOST/);
  });

  it("is accepted on 127.0.0.1 and lets requests in as the operator", async () => {
    const { app } = await createTestGateway(sqlite, { AUTH: "off", HOST: "127.0.0.1" });
    const answer = await app.request("/api/servers", { headers: { authorization: "" } });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { servers: Array<Record<string, unknown>> }).servers[0]).toHaveProperty("url");
  });
});
