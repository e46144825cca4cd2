import { describe, expect, it } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway } from "../support/test-gateway.ts";
import { taskWebhookEvent } from "../../src/webhooks/events.ts";

describe.each(dialectCases)("the webhook outbox on $name", (dialect) => {
  async function setUp() {
    const { deps } = await createTestGateway(dialect);
    const style = deps.controllers.get("style")!;
    await style.ready();
    const user = await style.upsertUser({ externalId: `outbox-${Math.random().toString(36).slice(2)}` });
    const endpoint = await style.webhooks.addEndpoint({ url: "http://127.0.0.1:9/", events: ["task.succeeded"], secret: "whsec_AAAA" });
    const task = await style.createTask({ userId: user.id, workflow: "invert", params: {}, status: "running", outputUrls: [] });
    const succeed = () => style.transitionTaskWithOutbox(task.id, ["queued", "running"], { status: "succeeded", outputUrls: ["u"] }, taskWebhookEvent("style", task.id, { status: "succeeded", outputUrls: ["u"] }, new Date()));
    return { style, endpoint, task, succeed };
  }

  it.skipIf(dialect.skip)("a task's end writes one outbox row per subscribed endpoint with it", async () => {
    const { style, endpoint, task, succeed } = await setUp();
    expect(await succeed()).toEqual({ moved: true, enqueued: 1 });
    const [row] = await style.webhooks.listDeliveries(endpoint.id, 10);
    expect(row).toMatchObject({ taskId: task.id, eventType: "task.succeeded", status: "pending", attempts: 0 });
    expect(row!.payload).toMatchObject({ type: "task.succeeded", data: { taskId: task.id, status: "succeeded" } });
  });

  it.skipIf(dialect.skip)("an end the guard refuses (the task already ended) writes no outbox row", async () => {
    const { style, endpoint, succeed } = await setUp();
    await succeed();
    expect(await succeed()).toEqual({ moved: false, enqueued: 0 });
    expect(await style.webhooks.listDeliveries(endpoint.id, 10)).toHaveLength(1);
  });

  it.skipIf(dialect.skip)("the end and its outbox rows are one transaction: an outbox write that fails leaves the task unended", async () => {
    const { style, endpoint, task, succeed } = await setUp();
    await succeed();
    // Back to running by hand: the next end's outbox row collides with the first (one per endpoint, task and event).
    await style.updateTask(task.id, { status: "running" });
    await expect(succeed()).rejects.toThrow();
    expect((await style.getTask(task.id))!.status).toBe("running");
    expect(await style.webhooks.listDeliveries(endpoint.id, 10)).toHaveLength(1);
  });

  it.skipIf(dialect.skip)("two replicas claiming one delivery at once: exactly one gets the lease, and a lapsed lease is taken over", async () => {
    const { style, endpoint, succeed } = await setUp();
    await succeed();
    const [row] = await style.webhooks.listDeliveries(endpoint.id, 1);
    const now = new Date();
    const until = new Date(now.getTime() + 30_000);
    const claims = await Promise.all([style.webhooks.claim(row!, "replica-a", now, until), style.webhooks.claim(row!, "replica-b", now, until)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await style.webhooks.listDue(now, 10)).toEqual([]);
    const later = new Date(until.getTime() + 1);
    expect(await style.webhooks.claim(row!, "replica-c", later, new Date(later.getTime() + 30_000))).toBe(true);
  });
});
