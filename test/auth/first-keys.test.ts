import { describe, expect, it, onTestFinished } from "vitest";
import { readAdminKeys } from "../../src/auth/admin-keys.ts";
import { createFirstKeys } from "../../src/auth/first-keys.ts";
import { createAdminKey, createFrontendKey, listKeys } from "../../src/auth/key-admin.ts";
import { loadConfig } from "../../src/config/config.ts";
import { knownFrontends } from "../../src/controllers/db-controller-map.ts";
import { generateKey } from "../../src/lib/key-format.ts";
import { memoryLogger } from "../../src/lib/logger.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { openControllers } from "../../src/server/build-deps.ts";
import { createTestGateway } from "../support/test-gateway.ts";
import { dialectCases, tempDir } from "../support/dialects.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";

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
  return { run, printed, logger, controllers, dataDir: config.dataDir, env: { DATA_DIR: data.dir } };
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

  it.each([
    ["ADMIN_KEY", () => "x".repeat(40)],
    ["API_KEYS", () => generateKey("style").key],
  ])("makes nothing when %s configures a key", async (variable, value) => {
    const start = firstStart({ [variable]: value() });
    expect(await start.run()).toBe(false);
    expect(start.printed).toEqual([]);
    expect(readAdminKeys(start.dataDir)).toEqual([]);
  });

  it("makes nothing when an admin key was already made with the keys command", async () => {
    const start = firstStart();
    const made = createAdminKey(start.dataDir, "ops");
    expect(await start.run()).toBe(false);
    expect(start.printed).toEqual([]);
    expect((await listKeys(start.dataDir, start.controllers.values())).map((key) => key.id)).toEqual([made.id]);
  });

  it("makes nothing when a frontend database already holds a key", async () => {
    const start = firstStart();
    const made = await createFrontendKey(start.controllers.get("logo")!, "backend");
    expect(await start.run()).toBe(false);
    expect(start.printed).toEqual([]);
    expect((await listKeys(start.dataDir, start.controllers.values())).map((key) => key.id)).toEqual([made.id]);
  });

  it("makes nothing, and warns, while a frontend database is not answering", async () => {
    // Nothing listens behind the cut proxy: logo's database is down from the start.
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 9 });
    proxy.cut();
    const start = firstStart({ DATABASE_URL_LOGO: `mysql://root@127.0.0.1:${proxy.port}/aipack_first_keys_down` });
    expect(await start.run()).toBe(false);
    expect(start.printed).toEqual([]);
    expect(readAdminKeys(start.dataDir)).toEqual([]);
    const warning = start.logger.entries.find((entry) => entry.level === "warn");
    expect(warning).toMatchObject({ message: "first keys not made: a frontend database is not answering", fields: { error: expect.stringMatching(/\S/) } });
  });

  it("prints the keys in one banner that says they are shown once and how to make more", async () => {
    const start = firstStart();
    await start.run();
    const masked = start.printed[0]!.replace(/aipk_\S+/g, "<key>").split("\n");
    expect(masked).toEqual([
      "",
      "==================== aipack: first start, keys made (shown only this once) ====================",
      "admin (GET /api/servers details, ?refresh=1):  <key>",
      ...knownFrontends.map((frontend) => `${frontend} (its backend: POST /api/users, POST /api/tokens, tasks for any of its users):  <key>`),
      "Keep them secret; they are stored hashed and cannot be shown again.",
      "More, rotation and revocation:  npm run keys -- create --frontend <name> | create --admin | list | revoke <id>",
      "===============================================================================================",
      "",
    ]);
  });

  it("labels the keys it makes \"first start\" in the key list", async () => {
    const start = firstStart();
    await start.run();
    const listing = await listKeys(start.dataDir, start.controllers.values());
    expect(listing.map((key) => [key.scope, key.label])).toEqual([["admin", "first start"], ...knownFrontends.map((frontend) => [frontend, "first start"])]);
  });

  it("logs that keys were made, by the admin key's id and the frontends", async () => {
    const start = firstStart();
    await start.run();
    const [admin] = readAdminKeys(start.dataDir);
    expect(start.logger.entries).toContainEqual({ level: "info", message: "first keys made", fields: { admin: admin!.id, frontends: [...knownFrontends] } });
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
