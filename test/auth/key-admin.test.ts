import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { createAdminKey, createFrontendKey, listKeys, revokeKey } from "../../src/auth/key-admin.ts";
import { hashKey } from "../../src/lib/key-format.ts";
import { dialectCases, tempDir } from "../support/dialects.ts";
import { createTestGateway, settableClock } from "../support/test-gateway.ts";

// What `npm run keys` does, in process (the command itself is tested from dist in test/smoke).

const created = "2026-05-01T10:00:00.000Z";
const revoked = "2026-05-02T11:00:00.000Z";

async function keysWorld(dialect: (typeof dialectCases)[number]) {
  const clock = settableClock(created);
  const { app, deps, config } = await createTestGateway(dialect, {}, clock);
  const style = deps.controllers.get("style")!;
  const logo = deps.controllers.get("logo")!;
  const controllers = [style, logo];
  const admin = createAdminKey(config.dataDir, "ops", new Date(created));
  const frontend = await createFrontendKey(style, "mini-program");
  const unlabelled = await createFrontendKey(logo);
  return { app, clock, dataDir: config.dataDir, controllers, admin, frontend, unlabelled };
}

describe.each(dialectCases)("key administration on $name", (dialect) => {
  it.skipIf(dialect.skip)("lists every key by scope, id, label and creation date, never the key itself", async () => {
    const { dataDir, controllers, admin, frontend, unlabelled } = await keysWorld(dialect);
    const listing = await listKeys(dataDir, controllers);
    expect(listing).toEqual([
      { scope: "admin", id: admin.id, label: "ops", createdAt: new Date(created), revokedAt: null },
      { scope: "style", id: frontend.id, label: "mini-program", createdAt: new Date(created), revokedAt: null },
      { scope: "logo", id: unlabelled.id, label: null, createdAt: new Date(created), revokedAt: null },
    ]);
    expect(JSON.stringify(listing)).not.toContain(frontend.key);
    expect(JSON.stringify(listing)).not.toContain(admin.key);
  });

  it.skipIf(dialect.skip)("a created frontend key opens its frontend's API; revoked, it is refused within 5 s", async () => {
    const { app, clock, dataDir, controllers, frontend } = await keysWorld(dialect);
    const ask = () => app.request("/api/workflows?frontend=style", { headers: { authorization: `Bearer ${frontend.key}` } });
    expect((await ask()).status).toBe(200);
    expect(await revokeKey(dataDir, controllers, frontend.id)).toBe(true);
    // The gateway trusts a key it has read for 5 s (one database read per key, not per request).
    clock.set("2026-05-01T10:00:04.999Z");
    expect((await ask()).status).toBe(200);
    clock.set("2026-05-01T10:00:05.000Z");
    const refused = await ask();
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });

  it.skipIf(dialect.skip)("revoking an admin key dates it once: a second revoke keeps the first date", async () => {
    const { dataDir, controllers, admin } = await keysWorld(dialect);
    expect(await revokeKey(dataDir, controllers, admin.id, new Date(revoked))).toBe(true);
    expect(await revokeKey(dataDir, controllers, admin.id, new Date("2026-06-01T00:00:00.000Z"))).toBe(true);
    const listed = (await listKeys(dataDir, controllers)).find((key) => key.id === admin.id);
    expect(listed?.revokedAt).toEqual(new Date(revoked));
  });

  it.skipIf(dialect.skip)("revoking a frontend key dates it with the controller's clock, in its own database only", async () => {
    const { clock, dataDir, controllers, frontend, unlabelled } = await keysWorld(dialect);
    clock.set(revoked);
    expect(await revokeKey(dataDir, controllers, unlabelled.id)).toBe(true);
    const listing = await listKeys(dataDir, controllers);
    expect(listing.find((key) => key.id === unlabelled.id)?.revokedAt).toEqual(new Date(revoked));
    expect(listing.find((key) => key.id === frontend.id)?.revokedAt).toBeNull();
  });

  it.skipIf(dialect.skip)("revoking an id no key has answers false", async () => {
    const { dataDir, controllers } = await keysWorld(dialect);
    expect(await revokeKey(dataDir, controllers, "no-such-key")).toBe(false);
  });
});

describe("the admin key file", () => {
  it("is DATA_DIR/auth/admin-keys.json, readable by its owner only, with the key's hash and never the key", () => {
    const data = tempDir();
    onTestFinished(data.cleanup);
    const made = createAdminKey(data.dir, "ops");
    const file = path.join(data.dir, "auth", "admin-keys.json");
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    expect(text).toContain(hashKey(made.key));
    expect(text).not.toContain(made.key);
  });
});
