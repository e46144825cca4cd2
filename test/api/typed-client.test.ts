import { hc } from "hono/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { AppType } from "../../src/app.ts";
import { createFrontendKey } from "../../src/auth/key-admin.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { pngBytes } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

// `hc<AppType>` as a frontend team uses it: its backend holds the frontend key, its client the
// user token. Every body below is typed from the routes' own zod schemas: no cast anywhere.

describe("the type of hc<AppType>", () => {
  it("has every REST route, typed from its schemas", () => {
    const client = hc<AppType>("http://gateway.invalid");
    expectTypeOf(client.healthz.$get).toBeFunction();
    expectTypeOf(client.readyz.$get).toBeFunction();
    expectTypeOf(client.metrics.$get).toBeFunction();
    expectTypeOf(client.api.tokens.$post).parameter(0).toExtend<{ json: { frontend: string } }>();
    expectTypeOf(client.api.users.$post).parameter(0).toExtend<{ json: { frontend: string; externalId: string } }>();
    expectTypeOf(client.api.users[":id"].$get).parameter(0).toExtend<{ param: { id: string }; query: { frontend: string } }>();
    expectTypeOf(client.api.workflows.$get).parameter(0).toExtend<{ query: { frontend: string } }>();
    expectTypeOf(client.api.servers.$get).toBeFunction();
    expectTypeOf(client.api.tasks.$get).parameter(0).toExtend<{ query: { frontend: string; userId: string } }>();
    expectTypeOf(client.api.tasks.$post).parameter(0).toExtend<{ form: { frontend: string; workflow: string } }>();
    expectTypeOf(client.api.tasks[":id"].$get).parameter(0).toExtend<{ param: { id: string } }>();
    expectTypeOf(client.api.tasks[":id"].$delete).parameter(0).toExtend<{ param: { id: string } }>();
    expectTypeOf(client.api.queue.$get).parameter(0).toExtend<{ query: { frontend: string; taskId: string } }>();
    expectTypeOf(client.api.webhooks.$post).parameter(0).toExtend<{ json: { frontend: string; url: string; events: Array<"task.running" | "task.succeeded" | "task.failed" | "task.cancelled"> } }>();
    expectTypeOf(client.api.webhooks.$get).parameter(0).toExtend<{ query: { frontend: string } }>();
    expectTypeOf(client.api.webhooks[":id"].$get).parameter(0).toExtend<{ param: { id: string }; query: { frontend: string } }>();
    expectTypeOf(client.api.webhooks[":id"].$patch).parameter(0).toExtend<{ param: { id: string }; json: { frontend: string } }>();
    expectTypeOf(client.api.webhooks[":id"].$delete).parameter(0).toExtend<{ param: { id: string }; query: { frontend: string } }>();
    expectTypeOf(client.api.webhooks[":id"].deliveries.$get).parameter(0).toExtend<{ param: { id: string }; query: { frontend: string } }>();
    expect(client.api.tasks.$url().pathname).toBe("/api/tasks");
  });
});

describe.each(dialectCases)("the typed client on $name", (dialect) => {
  it.skipIf(dialect.skip)("creates a user, mints a token, submits an image, polls the queue and reads the task", async () => {
    const fake = await fakeForTest({ msPerStep: 1 });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "5" });
    const { key } = await createFrontendKey(gateway.deps.controllers.get("style")!, "typed-client");
    const backend = hc<AppType>(gateway.url, { headers: { authorization: `Bearer ${key}` } });

    const created = await backend.api.users.$post({ json: { frontend: "style", externalId: "typed-client-user", nickname: "Ann" } });
    expect(created.status).toBe(200);
    if (created.status !== 200) return;
    const { user } = await created.json();
    expectTypeOf(user.nickname).toEqualTypeOf<string | null>();
    expect(user).toMatchObject({ externalId: "typed-client-user", nickname: "Ann" });

    const minted = await backend.api.tokens.$post({ json: { frontend: "style", userId: user.id, ttlSeconds: 600 } });
    expect(minted.status).toBe(201);
    if (minted.status !== 201) return;
    const { token, tokenType, expiresIn } = await minted.json();
    expectTypeOf(tokenType).toEqualTypeOf<"Bearer">();
    expect(expiresIn).toBe(600);

    // The client: the user token only, the image as a File part of the multipart form.
    const client = hc<AppType>(gateway.url, { headers: { authorization: `Bearer ${token}` } });
    const image = new File([new Uint8Array(pngBytes(6, 4))], "me.png", { type: "image/png" });
    const submitted = await client.api.tasks.$post({ form: { frontend: "style", workflow: "invert", image }, header: { "idempotency-key": "typed-client-1" } });
    expect(submitted.status).toBe(202);
    if (submitted.status !== 202) return;
    const { task: queued } = await submitted.json();
    expectTypeOf(queued.status).toEqualTypeOf<"queued">();

    await expect
      .poll(async () => {
        const answer = await client.api.queue.$get({ query: { frontend: "style", taskId: queued.id } });
        if (answer.status !== 200) return `HTTP ${answer.status}`;
        const position = await answer.json();
        expectTypeOf(position.status).toEqualTypeOf<"queued" | "running" | "succeeded" | "failed" | "cancelled">();
        return position.status;
      }, { timeout: 15_000, interval: 20 })
      .toBe("succeeded");

    const read = await client.api.tasks[":id"].$get({ param: { id: queued.id }, query: { frontend: "style" } });
    expect(read.status).toBe(200);
    if (read.status !== 200) return;
    const { task } = await read.json();
    expectTypeOf(task.outputUrls).toEqualTypeOf<string[]>();
    expect(task).toMatchObject({ id: queued.id, userId: user.id, status: "succeeded", workflow: "invert", error: null });
    expect(task.outputUrls).toHaveLength(1);
  });

  it.skipIf(dialect.skip)("registers a webhook endpoint with the frontend key and lists it", async () => {
    const gateway = await startTestServer(dialect, { WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1" });
    const { key } = await createFrontendKey(gateway.deps.controllers.get("style")!, "typed-client-hooks");
    const backend = hc<AppType>(gateway.url, { headers: { authorization: `Bearer ${key}` } });

    const registered = await backend.api.webhooks.$post({ json: { frontend: "style", url: "http://127.0.0.1:9/hooks", events: ["task.succeeded", "task.failed"], description: "billing" } });
    expect(registered.status).toBe(201);
    if (registered.status !== 201) return;
    const { endpoint, secret } = await registered.json();
    expectTypeOf(secret).toEqualTypeOf<string>();
    expectTypeOf(endpoint.enabled).toEqualTypeOf<boolean>();
    expect(secret).toMatch(/^whsec_/);

    const listed = await backend.api.webhooks.$get({ query: { frontend: "style" } });
    expect(listed.status).toBe(200);
    if (listed.status !== 200) return;
    const { endpoints } = await listed.json();
    expectTypeOf<(typeof endpoints)[number]["events"]>().toEqualTypeOf<Array<"task.running" | "task.succeeded" | "task.failed" | "task.cancelled">>();
    expect(endpoints).toEqual([expect.objectContaining({ id: endpoint.id, url: "http://127.0.0.1:9/hooks", events: ["task.succeeded", "task.failed"], description: "billing", enabled: true })]);
  });

  it.skipIf(dialect.skip)("types an error answer as the error envelope", async () => {
    const gateway = await startTestServer(dialect, {});
    const client = hc<AppType>(gateway.url, { headers: { authorization: "Bearer not-a-credential" } });
    const answer = await client.api.workflows.$get({ query: { frontend: "style" } });
    expect(answer.status).toBe(401);
    if (answer.status !== 401) return;
    const { error } = await answer.json();
    expectTypeOf(error.code).toExtend<string>();
    expect(error.code).toBe("unauthorized");
  });
});
