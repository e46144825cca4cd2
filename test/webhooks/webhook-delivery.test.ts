import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { startReceiver } from "../support/webhook-receiver.ts";
import { bodies, deliveriesOf, endpointOf, registerEndpoint, setEnabled, submitInvert, taskStatus } from "./webhook-support.ts";

/** Receivers listen on 127.0.0.1, which only the allow-list opens; retries come after ~20 ms, not seconds. */
const webhookEnv = { WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1", WEBHOOK_RETRY_BASE_MS: "20" };

describe.each(dialectCases)("webhooks delivered on $name", (dialect) => {
  async function setUp(env: Record<string, string> = {}, fakeOptions: Parameters<typeof fakeForTest>[0] = {}) {
    const fake = await fakeForTest(fakeOptions);
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, ...webhookEnv, ...env });
    const userId = await createUser(gateway.url, "style", `hooks-${Math.random().toString(36).slice(2)}`);
    return { fake, gateway, userId };
  }

  it.skipIf(dialect.skip)("a finished task's event arrives signed: the standardwebhooks library verifies it, and the body names the task by id only", async () => {
    const { gateway, userId } = await setUp();
    const receiver = await startReceiver();
    const { secret } = await registerEndpoint(gateway.url, receiver.url);
    const taskId = await submitInvert(gateway.url, userId);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);

    const [{ headers, body }] = receiver.received as [{ headers: Record<string, string>; body: string }];
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual({
      type: "task.succeeded",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { taskId, frontend: "style", status: "succeeded", outputUrls: [expect.stringContaining("/files/style/outputs/")] },
    });
    expect(headers["webhook-id"]).toMatch(/^msg_/);
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(body, headers)).toThrow(WebhookVerificationError);
    expect(body).not.toContain(userId);
    // Logged once the receiver's answer is recorded, a moment after the receiver has the request.
    await expect
      .poll(() => gateway.logger.entries.find((entry) => entry.message === "webhook delivered")?.fields)
      .toMatchObject({ frontend: "style", deliveryId: headers["webhook-id"], event: "task.succeeded", status: 204 });
    expect(JSON.stringify(gateway.logger.entries)).not.toContain(secret.slice(6));
    expect(JSON.stringify(gateway.logger.entries)).not.toContain(receiver.url);
  });

  it.skipIf(dialect.skip)("a receiver answering 500 twice gets the event on the third try, with the same webhook-id", async () => {
    const { gateway, userId } = await setUp();
    const receiver = await startReceiver((index) => (index < 2 ? 500 : 204));
    const { id, secret } = await registerEndpoint(gateway.url, receiver.url);
    await submitInvert(gateway.url, userId);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(3);

    const ids = receiver.received.map((entry) => entry.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(1);
    expect(() => new Webhook(secret).verify(receiver.received[2]!.body, receiver.received[2]!.headers)).not.toThrow();
    await expect.poll(async () => (await deliveriesOf(gateway.url, id))[0]).toMatchObject({ id: ids[0], status: "delivered", attempts: 3, lastStatusCode: 204 });
    const metrics = await (await apiFetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('aipack_webhook_attempts_total{frontend="style",outcome="retry"} 2');
    expect(metrics).toContain('aipack_webhook_attempts_total{frontend="style",outcome="delivered"} 1');
    expect(metrics).not.toContain(secret.slice(6));
  });

  it.skipIf(dialect.skip)("a receiver that keeps failing is given up once the event is older than WEBHOOK_RETRY_FOR", async () => {
    const { gateway, userId } = await setUp({ WEBHOOK_RETRY_FOR: "1s" });
    const receiver = await startReceiver(() => 503);
    const { id } = await registerEndpoint(gateway.url, receiver.url);
    await submitInvert(gateway.url, userId);
    await expect.poll(async () => (await deliveriesOf(gateway.url, id))[0]?.status, { timeout: 15_000 }).toBe("failed");
    const [delivery] = await deliveriesOf(gateway.url, id);
    expect(delivery).toMatchObject({ lastStatusCode: 503, lastError: "HTTP 503" });
    expect(delivery!.attempts).toBeGreaterThanOrEqual(3);
    expect(receiver.received).toHaveLength(delivery!.attempts);
  });

  it.skipIf(dialect.skip)("a disabled endpoint gets nothing, while an enabled one gets the event", async () => {
    const { gateway, userId } = await setUp();
    const off = await startReceiver();
    const on = await startReceiver();
    const disabled = await registerEndpoint(gateway.url, off.url);
    await registerEndpoint(gateway.url, on.url);
    await setEnabled(gateway.url, disabled.id, false);
    const taskId = await submitInvert(gateway.url, userId);
    await expect.poll(() => on.received.length, { timeout: 15_000 }).toBe(1);

    expect(bodies(on.received)[0]!.data.taskId).toBe(taskId);
    expect(off.received).toEqual([]);
    // The outbox rows are written with the task's end: none was written for it, so none can follow.
    expect(await deliveriesOf(gateway.url, disabled.id)).toEqual([]);
  });

  it.skipIf(dialect.skip)("one slow receiver (held open) does not delay another endpoint's events", async () => {
    const { gateway, userId } = await setUp({ WEBHOOK_TIMEOUT_MS: "60000" });
    const slow = await startReceiver(() => "hold");
    const quick = await startReceiver();
    await registerEndpoint(gateway.url, slow.url);
    await registerEndpoint(gateway.url, quick.url);
    const first = await submitInvert(gateway.url, userId);
    await expect.poll(() => slow.heldCount, { timeout: 15_000 }).toBe(1);
    const second = await submitInvert(gateway.url, userId);

    await expect.poll(() => bodies(quick.received).map((body) => body.data.taskId), { timeout: 15_000 }).toEqual([first, second]);
    expect(slow.heldCount).toBe(1);
    slow.release(204);
    await expect.poll(() => slow.received.length, { timeout: 15_000 }).toBe(2);
  });

  it.skipIf(dialect.skip)("a receiver answering 410 has its endpoint disabled and gets no further event", async () => {
    const { gateway, userId } = await setUp();
    const gone = await startReceiver(() => 410);
    const witness = await startReceiver();
    const endpoint = await registerEndpoint(gateway.url, gone.url);
    await registerEndpoint(gateway.url, witness.url);
    await submitInvert(gateway.url, userId);
    await expect.poll(() => endpointOf(gateway.url, endpoint.id), { timeout: 15_000 }).toEqual(expect.objectContaining({ enabled: false, disabledReason: "410 Gone" }));
    expect((await deliveriesOf(gateway.url, endpoint.id))[0]).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 410 });

    await submitInvert(gateway.url, userId);
    await expect.poll(() => witness.received.length, { timeout: 15_000 }).toBe(2);
    expect(gone.received).toHaveLength(1);
  });

  it.skipIf(dialect.skip)("task.running is sent when asked for, before task.succeeded", async () => {
    const { gateway, userId } = await setUp();
    const receiver = await startReceiver();
    await registerEndpoint(gateway.url, receiver.url, ["task.running", "task.succeeded"]);
    const taskId = await submitInvert(gateway.url, userId);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(2);
    expect(bodies(receiver.received).map((body) => [body.type, body.data.taskId])).toEqual([
      ["task.running", taskId],
      ["task.succeeded", taskId],
    ]);
  });

  it.skipIf(dialect.skip)("a failed task sends task.failed with ComfyUI's message", async () => {
    const { gateway, userId } = await setUp({}, { failOnClass: "ImageInvert" });
    const receiver = await startReceiver();
    await registerEndpoint(gateway.url, receiver.url);
    const taskId = await submitInvert(gateway.url, userId);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    const [event] = receiver.received.map((entry) => JSON.parse(entry.body) as { type: string; data: Record<string, unknown> });
    expect(event).toMatchObject({ type: "task.failed", data: { taskId, status: "failed", error: expect.any(String) } });
    expect(event!.data.outputUrls).toBeUndefined();
  });

  it.skipIf(dialect.skip)("a cancelled task sends task.cancelled", async () => {
    const { gateway, userId } = await setUp({}, { paused: true });
    const receiver = await startReceiver();
    await registerEndpoint(gateway.url, receiver.url);
    const taskId = await submitInvert(gateway.url, userId);
    expect((await apiFetch(`${gateway.url}/api/tasks/${taskId}?frontend=style`, { method: "DELETE" })).status).toBe(200);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    expect(bodies(receiver.received)[0]).toMatchObject({ type: "task.cancelled", data: { taskId, status: "cancelled" } });
    expect(await taskStatus(gateway.url, taskId)).toBe("cancelled");
  });

  it.skipIf(dialect.skip)("a destination that turned private since registration is refused at delivery and retried, never sent", async () => {
    const { gateway, userId } = await setUp();
    const receiver = await startReceiver();
    // As if the name's DNS now pointed at another loopback address: written past the route's check.
    const endpoint = await gateway.deps.controllers.get("style")!.webhooks.addEndpoint({
      url: `http://127.0.0.2:${receiver.port}/hooks`,
      events: ["task.succeeded"],
      secret: `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
    });
    await submitInvert(gateway.url, userId);
    await expect.poll(async () => (await deliveriesOf(gateway.url, endpoint.id))[0]?.attempts ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    expect((await deliveriesOf(gateway.url, endpoint.id))[0]).toMatchObject({ status: "pending", lastStatusCode: null, lastError: "destination not allowed" });
    expect(receiver.received).toEqual([]);
  });
});
