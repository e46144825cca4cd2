import { describe, expect, it, onTestFinished } from "vitest";
import { Metrics } from "../../src/lib/metrics.ts";
import { addressGuard } from "../../src/webhooks/destination.ts";
import { taskWebhookEvent } from "../../src/webhooks/events.ts";
import { WebhookSender } from "../../src/webhooks/webhook-sender.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway } from "../support/test-gateway.ts";
import { startReceiver } from "../support/webhook-receiver.ts";

describe.each(dialectCases)("two replicas sending one outbox on $name", (dialect) => {
  it.skipIf(dialect.skip)("every delivery is sent once: the lease keeps two eager senders off the same attempt", async () => {
    const { deps } = await createTestGateway(dialect);
    const style = deps.controllers.get("style")!;
    await style.ready();
    const receiver = await startReceiver();
    const endpoint = await style.webhooks.addEndpoint({ url: receiver.url, events: ["task.succeeded"], secret: `whsec_${Buffer.alloc(32, 3).toString("base64")}` });
    const user = await style.upsertUser({ externalId: `replicas-${Math.random().toString(36).slice(2)}` });
    const count = 20;
    for (let i = 0; i < count; i++) {
      const task = await style.createTask({ userId: user.id, workflow: "invert", params: {}, status: "running", outputUrls: [] });
      await style.transitionTaskWithOutbox(task.id, ["running"], { status: "succeeded", outputUrls: [] }, taskWebhookEvent("style", task.id, { status: "succeeded", outputUrls: [] }, new Date()));
    }
    // Two replicas over the same database, each reading the outbox every 10 ms besides its wakes.
    const senders = ["replica-a", "replica-b"].map(
      (gatewayId) =>
        new WebhookSender(deps.controllers, { clock: deps.clock, logger: deps.logger, metrics: new Metrics({ processMetrics: false }) }, {
          gatewayId,
          timeoutMs: 5_000,
          retryForMs: 60_000,
          baseMs: 20,
          pollIntervalMs: 10,
          allowed: addressGuard({ allowPrivate: false, allowed: ["127.0.0.1"] }),
        }),
    );
    onTestFinished(() => senders.forEach((sender) => sender.close()));
    await Promise.all(senders.map((sender) => sender.start()));

    await expect.poll(async () => (await style.webhooks.listDeliveries(endpoint.id, 100)).filter((row) => row.status === "delivered").length, { timeout: 20_000 }).toBe(count);
    const ids = receiver.received.map((entry) => entry.headers["webhook-id"]);
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
  });
});
