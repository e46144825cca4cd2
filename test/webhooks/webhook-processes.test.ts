import { Webhook } from "standardwebhooks";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { serverUp } from "../faults/fault-support.ts";
import { dialectCases } from "../support/dialects.ts";
import { spawnGateway } from "../support/spawn-gateway.ts";
import { createUser } from "../support/task-client.ts";
import { startReceiver } from "../support/webhook-receiver.ts";
import { bodies, deliveriesOf, registerEndpoint, submitInvert } from "./webhook-support.ts";

describe.each(dialectCases)("webhooks across a gateway killed on $name", (dialect) => {
  it.skipIf(dialect.skip)("a gateway killed (kill -9) before the delivery went through delivers it after its restart, with the same webhook-id", async () => {
    const fake = await fakeForTest();
    // The first attempt is held open, so the gateway dies before any answer comes back.
    const receiver = await startReceiver(() => "hold");
    const data = dialect.env();
    onTestFinished(data.cleanup);
    const env = { ...data.env, COMFY_SERVERS: `gpu1=${fake.url}`, INSTANCE_ID: "webhook-killed", WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1" };
    const first = await spawnGateway("node", env);
    await serverUp(first.url);
    const userId = await createUser(first.url, "style", "killed-hooks");
    const { id, secret } = await registerEndpoint(first.url, receiver.url);
    const taskId = await submitInvert(first.url, userId);
    await expect.poll(() => receiver.heldCount, { timeout: 30_000 }).toBe(1);
    await first.stop("SIGKILL");
    receiver.release(204);

    const second = await spawnGateway("node", env);
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(2);
    const [held, delivered] = receiver.received as [{ headers: Record<string, string>; body: string }, { headers: Record<string, string>; body: string }];
    expect(delivered.headers["webhook-id"]).toBe(held.headers["webhook-id"]);
    expect(delivered.body).toBe(held.body);
    expect(() => new Webhook(secret).verify(delivered.body, delivered.headers)).not.toThrow();
    expect(bodies([delivered])[0]).toMatchObject({ type: "task.succeeded", data: { taskId } });
    await expect.poll(async () => (await deliveriesOf(second.url, id))[0]).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 204 });
  }, 120_000);
});

describe("webhooks from the gateway on Bun", () => {
  const sqlite = dialectCases.find((dialect) => dialect.name === "sqlite")!;

  it("a task's end reaches the receiver, signed", async () => {
    const fake = await fakeForTest();
    const receiver = await startReceiver();
    const data = sqlite.env();
    onTestFinished(data.cleanup);
    const gateway = await spawnGateway("bun", { ...data.env, COMFY_SERVERS: `gpu1=${fake.url}`, WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1" });
    await serverUp(gateway.url);
    const userId = await createUser(gateway.url, "style", "bun-hooks");
    const { secret } = await registerEndpoint(gateway.url, receiver.url);
    const taskId = await submitInvert(gateway.url, userId);
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(1);
    const [{ headers, body }] = receiver.received as [{ headers: Record<string, string>; body: string }];
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: "task.succeeded", data: { taskId } });
  }, 120_000);
});
