import { describe, expect, it } from "vitest";
import { createFrontendKey } from "../../src/auth/key-admin.ts";
import { apiFetch, testAdminKey } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

/** A started gateway with a small "other" budget and two style users, each with a user token. */
async function twoUsers(env: Record<string, string> = {}) {
  const gateway = await startTestServer(sqlite, { RATE_OTHER_PER_MINUTE: "2", ...env });
  const style = gateway.deps.controllers.get("style")!;
  await style.ready();
  const [a, b] = await Promise.all([style.upsertUser({ externalId: "limits-a" }), style.upsertUser({ externalId: "limits-b" })]);
  const auth = gateway.deps.auth!;
  const [tokenA, tokenB] = await Promise.all([auth.mintUserToken("style", a.id, 3600), auth.mintUserToken("style", b.id, 3600)]);
  const asUser = (id: string, token: string) => () => fetch(`${gateway.url}/api/users/${id}?frontend=style`, { headers: { authorization: `Bearer ${token}` } });
  return { gateway, a: asUser(a.id, tokenA.token), b: asUser(b.id, tokenB.token) };
}

describe("rate limits once callers are authenticated", () => {
  it("gives each user token its own budget, though both come from one address", async () => {
    const { a, b } = await twoUsers();
    expect([(await a()).status, (await a()).status, (await a()).status]).toEqual([200, 200, 429]);
    expect((await b()).status).toBe(200);
  });

  it("gives each frontend key its own budget, though both come from one address", async () => {
    const { gateway } = await twoUsers();
    const style = gateway.deps.controllers.get("style")!;
    const [first, second] = [await createFrontendKey(style, "first"), await createFrontendKey(style, "second")];
    const ask = (key: string) => () => fetch(`${gateway.url}/api/workflows?frontend=style`, { headers: { authorization: `Bearer ${key}` } });
    const a = ask(first.key);
    expect([(await a()).status, (await a()).status, (await a()).status]).toEqual([200, 200, 429]);
    expect((await ask(second.key)()).status).toBe(200);
  });

  it("limits requests without a valid credential by their address", async () => {
    const { gateway } = await twoUsers();
    const guess = () => fetch(`${gateway.url}/api/workflows?frontend=style`, { headers: { authorization: "Bearer not-a-key" } });
    expect([(await guess()).status, (await guess()).status]).toEqual([401, 401]);
    const third = await guess();
    expect(third.status).toBe(429);
    expect((await third.json()).error.code).toBe("rate_limited");
  });
});

describe("/metrics", () => {
  it("answers the operator's admin key as well as METRICS_TOKEN, and nobody else", async () => {
    const gateway = await startTestServer(sqlite, { METRICS_TOKEN: "metrics-token-0123456789" });
    const scrape = (credential: string) => fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${credential}` } });
    expect((await scrape(testAdminKey)).status).toBe(200);
    expect((await scrape("metrics-token-0123456789")).status).toBe(200);
    expect((await scrape("some-other-secret-0123456789")).status).toBe(401);
    expect((await apiFetch(`${gateway.url}/healthz`)).status).toBe(200);
  });
});
