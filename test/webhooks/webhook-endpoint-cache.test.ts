import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser } from "../support/task-client.ts";
import { settableClock } from "../support/test-gateway.ts";
import { startTestServer } from "../support/test-server.ts";
import { startReceiver } from "../support/webhook-receiver.ts";
import { bodies, registerEndpoint, submitInvert, taskStatus } from "./webhook-support.ts";

// Each task start and end reads its frontend's enabled endpoints from a list cached for a few
// seconds (WebhooksDBController): a change made through this replica's API must not wait for it.
// The clock stands still here, so a list cached before the change would be served for ever.

const webhookEnv = { WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1", WEBHOOK_RETRY_BASE_MS: "20" };

describe.each(dialectCases)("webhook endpoints cached per frontend on $name", (dialect) => {
  async function setUp() {
    const fake = await fakeForTest();
    const clock = settableClock("2026-11-30T10:00:00.000Z");
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, ...webhookEnv }, undefined, true, clock);
    const userId = await createUser(gateway.url, "style", `hook-cache-${Math.random().toString(36).slice(2)}`);
    /** Submits a task and waits for its end (which read, and so cached, the endpoints). */
    const finishTask = async () => {
      const taskId = await submitInvert(gateway.url, userId);
      await expect.poll(() => taskStatus(gateway.url, taskId), { timeout: 15_000 }).toBe("succeeded");
      return taskId;
    };
    return { gateway, finishTask, webhooks: gateway.deps.controllers.get("style")!.webhooks };
  }

  it.skipIf(dialect.skip)("an endpoint registered through the API receives the very next task's event", async () => {
    const { gateway, finishTask } = await setUp();
    await finishTask(); // cached: no endpoint
    const receiver = await startReceiver();
    await registerEndpoint(gateway.url, receiver.url);
    const taskId = await finishTask();
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    expect(bodies(receiver.received)[0]!.data.taskId).toBe(taskId);
  });

  it.skipIf(dialect.skip)("an endpoint deleted through the API gets nothing after the delete, not even an outbox row", async () => {
    const { gateway, finishTask, webhooks } = await setUp();
    const kept = await startReceiver();
    const deleted = await startReceiver();
    await registerEndpoint(gateway.url, kept.url);
    const gone = await registerEndpoint(gateway.url, deleted.url);
    const first = await finishTask(); // cached: both endpoints
    await expect.poll(() => deleted.received.length, { timeout: 15_000 }).toBe(1);
    expect((await apiFetch(`${gateway.url}/api/webhooks/${gone.id}?frontend=style`, { method: "DELETE" })).status).toBe(204);

    const second = await finishTask();
    await expect.poll(() => bodies(kept.received).map((body) => body.data.taskId), { timeout: 15_000 }).toEqual([first, second]);
    expect(bodies(deleted.received).map((body) => body.data.taskId)).toEqual([first]);
    expect(await webhooks.listDeliveries(gone.id, 10)).toEqual([]);
  });

  it.skipIf(dialect.skip)("an endpoint registered through another replica is seen here within 5 s, not before", async () => {
    const fake = await fakeForTest();
    const clock = settableClock("2026-11-30T10:00:00.000Z");
    const shared = dialect.env();
    const env = { COMFY_SERVERS: fake.url, ...webhookEnv };
    const here = await startTestServer(dialect, env, shared, false, clock);
    const there = await startTestServer(dialect, env, shared, false, clock);
    onTestFinished(async () => {
      await here.close();
      await there.close();
      shared.cleanup();
    });
    const webhooks = here.deps.controllers.get("style")!.webhooks;
    expect(await webhooks.subscribedTo("task.succeeded")).toEqual([]);
    const { id } = await registerEndpoint(there.url, "http://127.0.0.1:9/");
    clock.set("2026-11-30T10:00:04.999Z");
    expect(await webhooks.subscribedTo("task.succeeded")).toEqual([]);
    clock.set("2026-11-30T10:00:05.000Z");
    expect((await webhooks.subscribedTo("task.succeeded")).map((endpoint) => endpoint.id)).toEqual([id]);
  });
});
