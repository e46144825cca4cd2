import { createHmac } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createAdminKey, revokeKey } from "../../src/auth/key-admin.ts";
import { importSigningKey } from "../../src/auth/user-tokens.ts";
import { generateKey } from "../../src/lib/key-format.ts";
import { dialectCases, mysqlUrl } from "../support/dialects.ts";
import { startTcpProxy, targetOf, throughProxy } from "../support/tcp-proxy.ts";
import { createTestGateway, jsonRequest, settableClock } from "../support/test-gateway.ts";

// How each kind of credential is accepted or refused, beyond the access matrix: keys given by the
// environment, admin keys from the key file, and user tokens that are almost right.

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const start = "2026-05-01T10:00:00.000Z";
const bearer = (credential: string): RequestInit => ({ headers: { authorization: `Bearer ${credential}` } });

/** The same key id with another (well-formed) secret: what a guess at a known id looks like. */
function otherSecret(key: string): string {
  const last = key.at(-1) === "A" ? "B" : "A";
  return `${key.slice(0, -1)}${last}`;
}

describe("a key from API_KEYS (container deployments)", () => {
  it("opens its frontend's API with no row in its database", async () => {
    const { key } = generateKey("style");
    const { app } = await createTestGateway(sqlite, { API_KEYS: key });
    expect((await app.request("/api/workflows?frontend=style", bearer(key))).status).toBe(200);
  });

  it("with its id but another secret is refused with 401", async () => {
    const { key } = generateKey("style");
    const { app } = await createTestGateway(sqlite, { API_KEYS: key });
    const refused = await app.request("/api/workflows?frontend=style", bearer(otherSecret(key)));
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });
});

describe("a credential shaped like a key", () => {
  it.each([
    ["that is not a well-formed key", () => "aipk_style_not-a-key"],
    ["of a frontend that is not enabled", () => generateKey("nosuch").key],
    ["that its frontend never made", () => generateKey("style").key],
  ])("%s is refused with 401", async (_, make) => {
    const { app } = await createTestGateway(sqlite);
    // A route open to every valid credential: only the credential itself can refuse it.
    const refused = await app.request("/api/servers", bearer(make()));
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });
});

describe("an admin key made with the keys command", () => {
  async function adminWorld() {
    const clock = settableClock(start);
    const { app, config } = await createTestGateway(sqlite, {}, clock);
    const admin = createAdminKey(config.dataDir, "ops");
    const refresh = (key: string) => app.request("/api/servers?refresh=1", bearer(key));
    return { clock, dataDir: config.dataDir, admin, refresh };
  }

  it("with an id the key file does not hold is refused with 401", async () => {
    const { refresh } = await adminWorld();
    const refused = await refresh(generateKey("admin").key);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });

  it("is found among several in the key file", async () => {
    const { dataDir, refresh } = await adminWorld();
    const second = createAdminKey(dataDir, "second");
    expect((await refresh(second.key)).status).toBe(200);
  });

  it("with its id but another secret is refused with 401", async () => {
    const { admin, refresh } = await adminWorld();
    expect((await refresh(otherSecret(admin.key))).status).toBe(401);
  });

  it("is refused within 5 s once revoked (the key file is read again then)", async () => {
    const { clock, dataDir, admin, refresh } = await adminWorld();
    expect((await refresh(admin.key)).status).toBe(200);
    expect(await revokeKey(dataDir, [], admin.id)).toBe(true);
    clock.set("2026-05-01T10:00:04.999Z");
    expect((await refresh(admin.key)).status).toBe(200);
    clock.set("2026-05-01T10:00:05.000Z");
    const refused = await refresh(admin.key);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });
});

describe("user tokens", () => {
  /** A gateway with one style user, and a way to sign any claims with style's own secret. */
  async function tokenWorld(env: Record<string, string | undefined> = {}) {
    const clock = settableClock(start);
    const { app, deps } = await createTestGateway(sqlite, env, clock);
    const style = deps.controllers.get("style")!;
    await style.ready();
    const user = await style.upsertUser({ externalId: "token-holder" });
    const signing = await importSigningKey(await style.keys.signingSecret());
    const now = Math.floor(new Date(start).getTime() / 1000);
    const sign = (claims: { iss?: string; sub?: string }) => {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setAudience("style").setIssuedAt(now).setExpirationTime(now + 600);
      if (claims.iss !== undefined) jwt.setIssuer(claims.iss);
      if (claims.sub !== undefined) jwt.setSubject(claims.sub);
      return jwt.sign(signing.key);
    };
    const getUser = (token: string) => app.request(`/api/users/${user.id}?frontend=style`, bearer(token));
    return { app, deps, clock, user, sign, getUser };
  }

  it("signed by the frontend's secret for its user is accepted (the control for the cases below)", async () => {
    const { user, sign, getUser } = await tokenWorld();
    expect((await getUser(await sign({ iss: "aipack", sub: user.id }))).status).toBe(200);
  });

  it.each([
    ["another issuer", { iss: "someone-else" }],
    ["no issuer", {}],
  ])("with %s is refused with 401, though its frontend's secret signed it", async (_, claims) => {
    const { user, sign, getUser } = await tokenWorld();
    const refused = await getUser(await sign({ ...claims, sub: user.id }));
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });

  it("claiming a frontend that is not enabled is refused with 401", async () => {
    const { deps, getUser } = await tokenWorld();
    const signing = await importSigningKey(await deps.controllers.get("style")!.keys.signingSecret());
    const now = Math.floor(new Date(start).getTime() / 1000);
    const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuer("aipack").setAudience("nosuch").setSubject("someone").setIssuedAt(now).setExpirationTime(now + 600).sign(signing.key);
    const refused = await getUser(token);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });

  it.each([
    ["an empty subject", ""],
    ["no subject", undefined],
  ])("with %s is refused with 401", async (_, sub) => {
    const { sign, getUser } = await tokenWorld();
    const refused = await getUser(await sign({ iss: "aipack", sub }));
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });

  it("with a subject that is not a string is refused with 401", async () => {
    const { deps, getUser } = await tokenWorld();
    const { secret } = await deps.controllers.get("style")!.keys.signingSecret();
    // jose's SignJWT only sets string subjects: this one is signed by hand, as a forger could.
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const now = Math.floor(new Date(start).getTime() / 1000);
    const unsigned = `${part({ alg: "HS256" })}.${part({ iss: "aipack", aud: "style", sub: 42, iat: now, exp: now + 600 })}`;
    const refused = await getUser(`${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });

  it("that has expired is refused with 401 saying it expired, so the client gets a new one", async () => {
    const { deps, clock, user, getUser } = await tokenWorld();
    const { token } = await deps.auth!.mintUserToken("style", user.id, 60);
    clock.set("2026-05-01T10:01:00.000Z");
    const refused = await getUser(token);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error).toMatchObject({ code: "unauthorized", message: "The token has expired; get a new one from your backend" });
  });

  it("that is not valid is refused without saying why", async () => {
    const { user, sign, getUser } = await tokenWorld();
    const refused = await getUser(await sign({ iss: "someone-else", sub: user.id }));
    expect((await refused.json()).error.message).toBe("The key or token is not valid");
  });

  it("is accepted by a gateway with no ADMIN_KEY", async () => {
    const { deps, user, getUser } = await tokenWorld({ ADMIN_KEY: undefined });
    const { token } = await deps.auth!.mintUserToken("style", user.id, 60);
    expect((await getUser(token)).status).toBe(200);
  });

  it.each([
    ["no ttlSeconds", {}, 3600],
    ["the longest ttlSeconds, 24 h", { ttlSeconds: 86_400 }, 86_400],
  ])("minted with %s lasts that long", async (_, ttl, seconds) => {
    const { app, user } = await tokenWorld();
    const minted = await app.request("/api/tokens", jsonRequest("POST", { frontend: "style", userId: user.id, ...ttl }));
    expect(minted.status).toBe(201);
    const body = await minted.json();
    expect(body).toMatchObject({ expiresIn: seconds, expiresAt: new Date(new Date(start).getTime() + seconds * 1000).toISOString() });
  });

  it("minted for longer than 24 h is refused with 400", async () => {
    const { app, user } = await tokenWorld();
    const refused = await app.request("/api/tokens", jsonRequest("POST", { frontend: "style", userId: user.id, ttlSeconds: 86_401 }));
    expect(refused.status).toBe(400);
  });
});

// MySQL only: SQLite has no connection to lose. Runs in mutation runs too (it needs MariaDB, not the MySQL dialect's cases).
describe.skipIf(mysqlUrl === null)("user tokens while their frontend's database is down", () => {
  it("are answered 503 database_unavailable, and accepted again once it is back", async () => {
    const mysql = dialectCases.find((d) => d.name === "mysql")!;
    const proxy = await startTcpProxy(targetOf(mysqlUrl!));
    const { app, deps } = await createTestGateway(mysql, { DATABASE_URL_LOGO: throughProxy(mysqlUrl!, proxy) });
    const logo = deps.controllers.get("logo")!;
    await logo.ready();
    const user = await logo.upsertUser({ externalId: "outage" });
    // A token signed with nothing the gateway knows yet: checking it needs logo's signing secret.
    const stranger = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuer("aipack").setAudience("logo").setSubject(user.id).setExpirationTime("10m").sign(new TextEncoder().encode("x".repeat(32)));
    proxy.cut();
    const down = await app.request(`/api/users/${user.id}?frontend=logo`, bearer(stranger));
    expect(down.status).toBe(503);
    expect((await down.json()).error.code).toBe("database_unavailable");
    proxy.restore();
    const { token } = await deps.auth!.mintUserToken("logo", user.id, 600);
    expect((await app.request(`/api/users/${user.id}?frontend=logo`, bearer(token))).status).toBe(200);
  });
});
