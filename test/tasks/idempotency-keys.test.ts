import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask, type SubmitFields } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

describe.each(dialectCases)("Idempotency-Keys submitted at once on $name", (dialect) => {
  it.skipIf(dialect.skip)("two users sending the same key at once each get a task of their own", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const users = [await createUser(gateway.url, "style", "idem-user-1"), await createUser(gateway.url, "style", "idem-user-2")];
    const key = { "Idempotency-Key": "order-1" };
    const answers = await Promise.all(users.map((userId) => submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }, key)));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
    expect(answers.map((answer) => answer.headers.get("idempotent-replayed"))).toEqual([null, null]);
    const tasks = await Promise.all(answers.map(async (answer) => (await answer.json()).task as { id: string; userId: string }));
    expect(new Set(tasks.map((task) => task.id)).size).toBe(2);
  });

  it.skipIf(dialect.skip)("early binding: a later replay of a key answers the first task without queueing anything on ComfyUI", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, SCHEDULING: "early" });
    const userId = await createUser(gateway.url, "style", "idem-early-replay");
    const fields: SubmitFields = { frontend: "style", userId, workflow: "invert", image: image() };
    const key = { "Idempotency-Key": "order-88" };
    const first = await (await submitTask(gateway.url, fields, key)).json();
    const replay = await submitTask(gateway.url, fields, key);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await replay.json()).task.id).toBe(first.task.id);
    expect(fake.counters.promptPosts).toBe(1);
  });

  // Two replicas on one database: each process's own single flight cannot join the other's submit,
  // so the database's unique key on (user, Idempotency-Key) decides.
  it.skipIf(dialect.skip)("early binding: both answer the task that was recorded first, and the loser's prompt leaves ComfyUI", async () => {
    const fake = await fakeForTest({ paused: true });
    const env = { COMFY_SERVERS: fake.url, SCHEDULING: "early" };
    const a = await startTestServer(dialect, { ...env, INSTANCE_ID: "replica-aaaa" });
    const b = await startTestServer(dialect, { ...env, INSTANCE_ID: "replica-bbbb" }, { env: a.data.env, cleanup: () => undefined });
    const userId = await createUser(a.url, "style", "idem-replicas");
    const fields: SubmitFields = { frontend: "style", userId, workflow: "invert", image: image() };
    const key = { "Idempotency-Key": "order-77" };
    // Both have looked the key up (not found) and hold their prompt at ComfyUI: neither row is written yet.
    fake.setOptions({ holdRoutes: ["POST /prompt"] });
    const answers = [submitTask(a.url, fields, key), submitTask(b.url, fields, key)];
    await expect.poll(() => fake.counters.held, { timeout: 15_000 }).toBe(2);
    fake.setOptions({ holdRoutes: [] });
    const [first, second] = await Promise.all(answers);
    expect([first!.status, second!.status]).toEqual([202, 202]);
    const bodies = [await first!.json(), await second!.json()];
    expect(bodies[1].task.id).toBe(bodies[0].task.id);
    expect([first!.headers.get("idempotent-replayed"), second!.headers.get("idempotent-replayed")].sort()).toEqual(["true", null].sort());
    const { promptId } = (await a.deps.controllers.get("style")!.getTask(bodies[0].task.id))!;
    const queue = await (await fetch(`${fake.url}/queue`)).json();
    expect([...queue.queue_running, ...queue.queue_pending].map((item: unknown[]) => item[1])).toEqual([promptId]);
    expect(fake.counters.promptPosts).toBe(2);
    // It was only waiting: taking it back interrupts nothing (on 0.3.x an interrupt stops whatever runs).
    expect(fake.counters.interrupts).toBe(0);
  });
  // Each replica has its own ComfyUI here, so the test decides which replica loses: b has looked the
  // key up and holds its input's upload at its ComfyUI while a records the task.
  async function replicasOnTwoServers(dialect: (typeof dialectCases)[number], externalId: string) {
    const fakeA = await fakeForTest({ paused: true });
    const fakeB = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const a = await startTestServer(dialect, { COMFY_SERVERS: fakeA.url, SCHEDULING: "early", INSTANCE_ID: "replica-aaaa" });
    const b = await startTestServer(dialect, { COMFY_SERVERS: fakeB.url, SCHEDULING: "early", INSTANCE_ID: "replica-bbbb" }, { env: a.data.env, cleanup: () => undefined });
    const userId = await createUser(a.url, "style", externalId);
    const fields: SubmitFields = { frontend: "style", userId, workflow: "invert", image: image() };
    const key = { "Idempotency-Key": "order-99" };
    const loseOnB = async (onRelease: Parameters<typeof fakeB.setOptions>[0] = {}) => {
      fakeB.setOptions({ holdRoutes: ["POST /upload/image"] });
      const loser = submitTask(b.url, fields, key);
      await expect.poll(() => fakeB.counters.held, { timeout: 15_000 }).toBe(1);
      const winner = await (await submitTask(a.url, fields, key)).json();
      fakeB.setOptions({ ...onRelease, holdRoutes: [] });
      return { winner, loser: await loser };
    };
    return { fakeB, b, fields, loseOnB };
  }

  it.skipIf(dialect.skip)("early binding: a losing replica's prompt that its idle ComfyUI already runs is stopped there", async () => {
    const { fakeB, loseOnB } = await replicasOnTwoServers(dialect, "idem-running-loser");
    const { winner, loser } = await loseOnB();
    expect((await loser.json()).task.id).toBe(winner.task.id);
    expect(fakeB.counters.interrupts).toBe(1);
  });

  it.skipIf(dialect.skip)("early binding: a losing replica's waiting prompt is taken back without stopping the task running before it", async () => {
    const { fakeB, b, fields, loseOnB } = await replicasOnTwoServers(dialect, "idem-waiting-loser");
    const running = (await (await submitTask(b.url, fields)).json()).task.id as string;
    await expect.poll(async () => (await (await fetch(`${fakeB.url}/queue`)).json()).queue_running.length, { timeout: 15_000 }).toBe(1);
    const { winner, loser } = await loseOnB();
    expect((await loser.json()).task.id).toBe(winner.task.id);
    const queue = await (await fetch(`${fakeB.url}/queue`)).json();
    expect(queue.queue_running.map((item: unknown[]) => item[3])).toEqual([expect.objectContaining({ aipack_task: running })]);
    expect(queue.queue_pending).toEqual([]);
    expect(fakeB.counters.interrupts).toBe(0);
  });
  it.skipIf(dialect.skip)("early binding: a losing replica still answers the first task when its ComfyUI's queue cannot be read", async () => {
    const { loseOnB } = await replicasOnTwoServers(dialect, "idem-unread-loser");
    const { winner, loser } = await loseOnB({ failRoutes: ["/queue"] });
    expect(loser.status).toBe(202);
    expect((await loser.json()).task.id).toBe(winner.task.id);
  });
  // Late scheduling asks nothing of ComfyUI before the row, so b is held at its input's write to
  // disk (the real local store, its put made to wait for the test): b has looked the key up, then
  // a records the task.
  it.skipIf(dialect.skip)("late scheduling: two replicas, one key: both answer the task that was recorded first", async () => {
    const fake = await fakeForTest({ paused: true });
    const a = await startTestServer(dialect, { COMFY_SERVERS: fake.url, INSTANCE_ID: "replica-aaaa" });
    const b = await startTestServer(dialect, { COMFY_SERVERS: fake.url, INSTANCE_ID: "replica-bbbb" }, { env: a.data.env, cleanup: () => undefined });
    const userId = await createUser(a.url, "style", "idem-late-replicas");
    const fields: SubmitFields = { frontend: "style", userId, workflow: "invert", image: image() };
    const key = { "Idempotency-Key": "order-55" };
    const storage = b.deps.storage;
    const put = storage.put.bind(storage);
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    let held = 0;
    storage.put = async (object) => {
      held += 1;
      await gate;
      return put(object);
    };
    const second = submitTask(b.url, fields, key);
    await expect.poll(() => held, { timeout: 15_000 }).toBe(1);
    const first = await submitTask(a.url, fields, key);
    letGo();
    const answers = [first, await second];
    expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
    const bodies = await Promise.all(answers.map((answer) => answer.json()));
    expect(bodies[1].task.id).toBe(bodies[0].task.id);
    expect(answers.map((answer) => answer.headers.get("idempotent-replayed"))).toEqual([null, "true"]);
  });
});
