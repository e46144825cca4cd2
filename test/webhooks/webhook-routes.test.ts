import { describe, expect, it } from "vitest";
import { createFrontendKey } from "../../src/auth/key-admin.ts";
import { webhookEndpointViewSchema } from "../../src/views/webhook-view.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, jsonRequest } from "../support/test-gateway.ts";

const receiverUrl = "http://127.0.0.1:9/hooks";

describe.each(dialectCases)("/api/webhooks on $name", (dialect) => {
  /** A gateway whose webhooks may reach 127.0.0.1 only, with a style key, a logo key and a style user's token. */
  async function setUp(env: Record<string, string> = {}) {
    const { app, deps } = await createTestGateway(dialect, { WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1", ...env });
    const style = deps.controllers.get("style")!;
    const styleKey = (await createFrontendKey(style, "hooks")).key;
    const logoKey = (await createFrontendKey(deps.controllers.get("logo")!, "hooks")).key;
    const user = await style.upsertUser({ externalId: `hooks-${Math.random().toString(36).slice(2)}` });
    const userToken = (await deps.auth!.mintUserToken("style", user.id, 3600)).token;
    const as = (credential: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${credential}` } });
    const register = (credential: string, body: Record<string, unknown> = {}) =>
      app.request("/api/webhooks", as(credential, jsonRequest("POST", { frontend: "style", url: receiverUrl, events: ["task.succeeded"], ...body })));
    return { app, styleKey, logoKey, userToken, as, register };
  }

  it.skipIf(dialect.skip)("a frontend key registers an endpoint: 201 with a Standard Webhooks secret, shown this once", async () => {
    const { app, styleKey, as, register } = await setUp();
    const answer = await register(styleKey, { events: ["task.succeeded", "task.failed"], description: "billing" });
    expect(answer.status).toBe(201);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    const { endpoint, secret } = await answer.json();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({ url: receiverUrl, events: ["task.succeeded", "task.failed"], description: "billing", enabled: true, disabledReason: null });

    const list = await app.request("/api/webhooks?frontend=style", as(styleKey));
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(JSON.parse(text).endpoints).toEqual([endpoint]);
    expect(webhookEndpointViewSchema.strict().parse(endpoint)).toEqual(endpoint);
    expect(text).not.toContain(secret);
    expect(await (await app.request(`/api/webhooks/${endpoint.id}?frontend=style`, as(styleKey))).text()).not.toContain(secret.slice(6));
  });

  it.skipIf(dialect.skip)("a frontend key disables, enables and deletes its endpoint", async () => {
    const { app, styleKey, as, register } = await setUp();
    const { endpoint } = await (await register(styleKey)).json();
    const patch = (enabled: boolean) => app.request(`/api/webhooks/${endpoint.id}`, as(styleKey, jsonRequest("PATCH", { frontend: "style", enabled })));
    expect((await (await patch(false)).json()).endpoint).toMatchObject({ enabled: false, disabledReason: "disabled by request" });
    expect((await (await patch(true)).json()).endpoint).toMatchObject({ enabled: true, disabledReason: null });
    expect((await app.request(`/api/webhooks/${endpoint.id}?frontend=style`, as(styleKey, { method: "DELETE" }))).status).toBe(204);
    const gone = await app.request(`/api/webhooks/${endpoint.id}?frontend=style`, as(styleKey));
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.code).toBe("not_found");
  });

  it.skipIf(dialect.skip)("the operator's admin key may manage a frontend's endpoints", async () => {
    const { app } = await setUp();
    // The test gateway's default credential is the admin key.
    const answer = await app.request("/api/webhooks", jsonRequest("POST", { frontend: "style", url: receiverUrl, events: ["task.failed"] }));
    expect(answer.status).toBe(201);
    const list = await (await app.request("/api/webhooks?frontend=style")).json();
    expect(list.endpoints).toHaveLength(1);
  });

  it.skipIf(dialect.skip)("a user token may not register or list endpoints: 403 forbidden", async () => {
    const { app, userToken, as, register } = await setUp();
    const registered = await register(userToken);
    expect(registered.status).toBe(403);
    expect((await registered.json()).error.code).toBe("forbidden");
    const listed = await app.request("/api/webhooks?frontend=style", as(userToken));
    expect(listed.status).toBe(403);
    expect((await listed.json()).error.code).toBe("forbidden");
  });

  it.skipIf(dialect.skip)("another frontend's key cannot see them: 403 naming style, an empty list and 404 in its own frontend", async () => {
    const { app, styleKey, logoKey, as, register } = await setUp();
    const { endpoint } = await (await register(styleKey)).json();
    const foreign = await app.request("/api/webhooks?frontend=style", as(logoKey));
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).error.code).toBe("forbidden");
    expect((await (await app.request("/api/webhooks?frontend=logo", as(logoKey))).json()).endpoints).toEqual([]);
    const probe = await app.request(`/api/webhooks/${endpoint.id}/deliveries?frontend=logo`, as(logoKey));
    expect(probe.status).toBe(404);
    expect((await probe.json()).error.code).toBe("not_found");
  });

  it.skipIf(dialect.skip)("no credential: 401 unauthorized", async () => {
    const { app } = await setUp();
    const answer = await app.request("/api/webhooks?frontend=style", { headers: { authorization: "Bearer nope" } });
    expect(answer.status).toBe(401);
    expect((await answer.json()).error.code).toBe("unauthorized");
  });

  it.skipIf(dialect.skip).each([
    "http://10.0.0.5/hooks",
    "http://172.16.3.4/hooks",
    "http://192.168.1.10/hooks",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hooks",
    "http://127.0.0.2/hooks",
    "http://[::1]/hooks",
    "http://[fd00::1]/hooks",
    "http://[fe80::1]/hooks",
    "http://[::ffff:10.0.0.1]/hooks",
    "http://0.0.0.0/hooks",
  ])("a destination in a special-use range is refused: %s → 400 bad_request", async (url) => {
    const { styleKey, register } = await setUp();
    const answer = await register(styleKey, { url });
    expect(answer.status).toBe(400);
    const { error } = await answer.json();
    expect(error.code).toBe("bad_request");
    expect(error.message).toMatch(/private, loopback, link-local/);
  });

  it.skipIf(dialect.skip)("WEBHOOK_ALLOW_PRIVATE=true lets the operator send to private addresses", async () => {
    const { styleKey, register } = await setUp({ WEBHOOK_ALLOW_PRIVATE: "true" });
    expect((await register(styleKey, { url: "http://10.0.0.5/hooks" })).status).toBe(201);
  });

  it.skipIf(dialect.skip).each([
    [{ url: "ftp://example.com/hooks" }, "url"],
    [{ url: "file:///etc/passwd" }, "url"],
    [{ events: ["task.exploded"] }, "events.0"],
    [{ events: [] }, "events"],
    [{ secret: "mine" }, ""],
  ])("a malformed registration %j → 400 validation_failed", async (change, path) => {
    const { styleKey, register } = await setUp();
    const answer = await register(styleKey, change);
    expect(answer.status).toBe(400);
    const { error } = await answer.json();
    expect(error.code).toBe("validation_failed");
    expect(error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
  });
});
