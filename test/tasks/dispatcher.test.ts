import { randomUUID } from "node:crypto";
import { createClient } from "@libsql/client";
import { Redis } from "ioredis";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases, type DialectCase } from "../support/dialects.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { createUser, pngBytes, untilDispatched, submitAccepted } from "../support/task-client.ts";
import { settableClock } from "../support/test-gateway.ts";
import { startTestServer } from "../support/test-server.ts";
import { workflowsWithTagged } from "../support/workflow-fixtures.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });
// No slow rescan in these tests: what they check must happen on the pass a change wakes.
const noRescan = { DISPATCH_RESCAN_MS: "600000" };

interface TaskView {
  status: string;
  server: string | null;
  waitReason: string | null;
  error: string | null;
}

async function taskOf(url: string, id: string): Promise<TaskView> {
  return (await (await apiFetch(`${url}/api/tasks/${id}?frontend=style`)).json()).task as TaskView;
}

type Counter = { get(): Promise<{ values: Array<{ value: number }> }> };
const total = async (counter: Counter) => (await counter.get()).values.reduce((sum, sample) => sum + sample.value, 0);

/**
 * A quiet gateway (no renewal or rescan falls due) whose first task's handover waits on a held
 * POST /prompt: submits made now arrive during that pass.
 */
async function firstHandoverHeld(dialect: DialectCase, depth: string, userName: string) {
  const fake = await fakeForTest({ paused: true });
  const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: depth, DISPATCH_LEASE_MS: "600000", ...noRescan });
  // The start's pass, and the one the server's stream coming up wakes (or its re-run): then all is still.
  await expect.poll(() => total(gateway.deps.metrics.dispatchPasses), { timeout: 10_000 }).toBe(2);
  await gateway.deps.tasks.dispatchIdle();
  const userId = await createUser(gateway.url, "style", userName);
  fake.setOptions({ holdRoutes: ["POST /prompt"] });
  const submitOne = () => submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
  const first = await submitOne();
  await expect.poll(() => fake.counters.held, { timeout: 10_000 }).toBe(1);
  return { fake, gateway, first, submitOne };
}

describe.each(dialectCases)("the gateway's dispatcher on $name", (dialect) => {
  it.skipIf(dialect.skip)("a task a server fails to take goes to the next server, not back to the one that failed", async () => {
    const failing = await fakeForTest({ failRoutes: ["/prompt"] });
    const spare = await fakeForTest({ paused: true });
    // b weighs 2: with equal room, a (more room per weight) is tried first.
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${failing.url},b=${spare.url};weight=2`, ...noRescan });
    const userId = await createUser(gateway.url, "style", "failed-handover");
    const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(await untilDispatched(gateway.url, "style", id)).toBe("b");
    const failures = gateway.logger.entries.filter((entry) => entry.message === "dispatch failed; the task goes back to the queue");
    expect(failures.map((entry) => entry.fields?.server)).toEqual(["a"]);
  });

  it.skipIf(dialect.skip)("a gateway started with every server full still tells a waiting task no live server can take why", async () => {
    const fake = await fakeForTest({ paused: true });
    const workflows = workflowsWithTagged("big");
    const env = { DISPATCH_DEPTH: "0", WORKFLOWS_DIR: workflows, ...noRescan };
    const first = await startTestServer(dialect, { COMFY_SERVERS: `a=${fake.url};tags=big`, ...env });
    const userId = await createUser(first.url, "style", "start-sweep");
    const blocker = await submitAccepted(first.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(await untilDispatched(first.url, "style", blocker)).toBe("a");
    const big = await submitAccepted(first.url, { frontend: "style", userId, workflow: "invert_big", image: image() });
    expect(await taskOf(first.url, big)).toMatchObject({ status: "queued", server: null, waitReason: null });
    await first.close();
    // Back without the tag, a still holding the blocker: no pass reads the queue, the start's sweep finds it.
    const second = await startTestServer(dialect, { COMFY_SERVERS: `a=${fake.url}`, ...env }, first.data);
    expect(await taskOf(second.url, big)).toMatchObject({ status: "queued", waitReason: "no server that is up has the tags big this workflow needs" });
  });

  it.skipIf(dialect.skip)("a waiting task whose workflow is no longer configured is failed, saying so, by the next pass", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, ...noRescan });
    const db = gateway.deps.controllers.get("style")!;
    // Left by a gateway whose workflows included "retired" (the head of the queue: round 0, sequence 0).
    const gone = await db.createTask({ userId: "retired-user", workflow: "retired", params: {}, status: "queued", outputUrls: [], queueRound: 0, queueSeq: 0 });
    const userId = await createUser(gateway.url, "style", "retired-workflow");
    const next = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(await untilDispatched(gateway.url, "style", next)).not.toBe("");
    await gateway.deps.tasks.dispatchIdle();
    expect(await taskOf(gateway.url, gone.id)).toMatchObject({ status: "failed", error: 'Its workflow "retired" is no longer configured' });
  });

  it.skipIf(dialect.skip)("a task no live server can take is failed after QUEUE_MAX_WAIT_MS by a pass another submit wakes", async () => {
    const fake = await fakeForTest({ paused: true });
    const clock = settableClock("2026-11-30T10:00:00.000Z");
    const env = { COMFY_SERVERS: fake.url, WORKFLOWS_DIR: workflowsWithTagged("big"), QUEUE_MAX_WAIT_MS: "60000", ...noRescan };
    const gateway = await startTestServer(dialect, env, undefined, true, clock);
    const userId = await createUser(gateway.url, "style", "max-wait-pass");
    const big = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() });
    await expect.poll(async () => (await taskOf(gateway.url, big)).waitReason, { timeout: 10_000 }).not.toBeNull();
    clock.set("2026-11-30T10:01:00.000Z");
    // The server has room: this submit's pass reads the head, the unservable task first.
    const plain = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(await untilDispatched(gateway.url, "style", plain)).not.toBe("");
    await gateway.deps.tasks.dispatchIdle();
    expect(await taskOf(gateway.url, big)).toMatchObject({ status: "failed", server: null });
  });

  it.skipIf(dialect.skip)("a pass woken while no server has room reads no waiting task", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0", ...noRescan });
    const userId = await createUser(gateway.url, "style", "no-room-pass");
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    const waiting = [await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })];
    waiting.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    await gateway.deps.tasks.dispatchIdle();
    const passes = await total(gateway.deps.metrics.dispatchPasses);
    const rows = await total(gateway.deps.metrics.dispatchRowsRead);
    // Cancelling a waiting task wakes a pass; the server is still full.
    const cancelled = await apiFetch(`${gateway.url}/api/tasks/${waiting[0]}?frontend=style`, { method: "DELETE" });
    expect((await cancelled.json()).task.status).toBe("cancelled");
    await expect.poll(() => total(gateway.deps.metrics.dispatchPasses), { timeout: 10_000 }).toBeGreaterThan(passes);
    await gateway.deps.tasks.dispatchIdle();
    expect(await total(gateway.deps.metrics.dispatchRowsRead)).toBe(rows);
    expect(await taskOf(gateway.url, waiting[1]!)).toMatchObject({ status: "queued", server: null });
  });

  it.skipIf(dialect.skip)("says once that this replica dispatches the queue, however often it renews the lease", async () => {
    const fake = await fakeForTest();
    // DISPATCH_LEASE_MS=300: a renewal every 100 ms, each waking a pass.
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_LEASE_MS: "300", ...noRescan });
    const passes = await total(gateway.deps.metrics.dispatchPasses);
    await expect.poll(() => total(gateway.deps.metrics.dispatchPasses), { timeout: 10_000 }).toBeGreaterThanOrEqual(passes + 3);
    const said = gateway.logger.entries.filter((entry) => /dispatch/.test(entry.message) && entry.level === "info").map((entry) => entry.message);
    expect(said).toEqual(["this replica dispatches the queue"]);
  });

  it.skipIf(dialect.skip)("a closed gateway runs no more dispatch passes", async () => {
    const fake = await fakeForTest();
    const fast = { COMFY_SERVERS: fake.url, DISPATCH_RESCAN_MS: "20" };
    const closed = await startTestServer(dialect, fast);
    await closed.close();
    const after = await total(closed.deps.metrics.dispatchPasses);
    // A live gateway with the same rescan is the clock: it makes ten passes meanwhile.
    const live = await startTestServer(dialect, fast);
    await expect.poll(() => total(live.deps.metrics.dispatchPasses), { timeout: 10_000 }).toBeGreaterThanOrEqual(10);
    expect(await total(closed.deps.metrics.dispatchPasses)).toBe(after);
  });

  it.skipIf(dialect.skip)("a gateway starting with nothing to dispatch makes one pass, not two", async () => {
    // The server is down: no stream comes up to wake another pass; no renewal or rescan falls due.
    const fake = await fakeForTest();
    await fake.kill();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_LEASE_MS: "600000", ...noRescan });
    await gateway.deps.tasks.dispatchIdle();
    expect(await total(gateway.deps.metrics.dispatchPasses)).toBe(1);
  });

  it.skipIf(dialect.skip)("a server busy with a job takes no task prepared behind another server's job", async () => {
    const a = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const b = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${a.url},b=${b.url}`, QUEUE_READ_WINDOW_MS: "1", ...noRescan });
    const userId = await createUser(gateway.url, "style", "busy-no-steal");
    // Three tasks on two servers (DISPATCH_DEPTH=1): one server runs one and holds one prepared, the other runs one.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    const statuses = async () => (await Promise.all(ids.map(async (id) => (await taskOf(gateway.url, id)).status))).sort();
    await expect.poll(statuses, { timeout: 10_000 }).toEqual(["queued", "running", "running"]);
    await gateway.deps.tasks.dispatchIdle();
    // Each prompt was posted once: nothing was taken back to go behind the other server's job.
    expect(a.counters.promptPosts + b.counters.promptPosts).toBe(3);
  });

  it.skipIf(dialect.skip)("submits during a pass are joined into one more pass, not a pass each", async () => {
    // The pass handing the first over waits on ComfyUI's answer while three more arrive.
    const { fake, gateway, first, submitOne } = await firstHandoverHeld(dialect, "0", "joined-wakes");
    const before = await total(gateway.deps.metrics.dispatchPasses);
    for (let i = 0; i < 3; i++) await submitOne();
    fake.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    const after = await total(gateway.deps.metrics.dispatchPasses);
    expect((await taskOf(gateway.url, first)).server).not.toBeNull();
    expect(after - before).toBe(1);
  });

  it.skipIf(dialect.skip)("one pass hands over as many waiting tasks as a server has room for", async () => {
    // DISPATCH_DEPTH=2: the server has room for three. The pass handing the first over waits on
    // ComfyUI while two more arrive and wait in the gateway.
    const { fake, gateway, first, submitOne } = await firstHandoverHeld(dialect, "2", "room-per-pass");
    const before = await total(gateway.deps.metrics.dispatchPasses);
    const waiting = [await submitOne()];
    waiting.push(await submitOne());
    fake.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    const servers = await Promise.all([first, ...waiting].map(async (id) => (await taskOf(gateway.url, id)).server));
    expect(servers[0]).not.toBeNull();
    expect(servers).toEqual([servers[0], servers[0], servers[0]]);
    // The pass the two submits joined hands both over; the one after it finds the server full.
    expect((await total(gateway.deps.metrics.dispatchPasses)) - before).toBe(2);
  });

  it.skipIf(dialect.skip)("a task no live server can take, submitted while every server is full, is told why at once", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0", WORKFLOWS_DIR: workflowsWithTagged("big"), ...noRescan });
    const userId = await createUser(gateway.url, "style", "arrived-full");
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    await gateway.deps.tasks.dispatchIdle();
    // No pass runs for this submit (the server is full) and no rescan falls due: the submit itself says why.
    const big = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() });
    const reason = "no server that is up has the tags big this workflow needs";
    await expect.poll(async () => (await taskOf(gateway.url, big)).waitReason, { timeout: 10_000 }).toBe(reason);
  });

  it.skipIf(dialect.skip || inject("redisUrl") === null)("says it no longer dispatches once another replica holds the lease", async () => {
    const redisUrl = inject("redisUrl")!;
    const channel = `aipack-test-${randomUUID()}`;
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, REDIS_URL: redisUrl, REDIS_CHANNEL: channel, DISPATCH_LEASE_MS: "300", ...noRescan });
    expect(gateway.logger.entries.map((entry) => entry.message)).toContain("this replica dispatches the queue");
    const redis = new Redis(redisUrl);
    onTestFinished(() => void redis.quit());
    // Another replica takes the lease (as after a pause longer than its TTL): the next renewal fails.
    await redis.set(`${channel}:dispatcher`, "another-replica", "PX", 60_000);
    const lost = () => gateway.logger.entries.some((entry) => entry.message === "this replica no longer dispatches");
    await expect.poll(lost, { timeout: 10_000 }).toBe(true);
  });

  it.skipIf(dialect.skip)("counts every frontend's tasks on a server toward its depth", async () => {
    const fake = await fakeForTest({ paused: true });
    // DISPATCH_DEPTH=1: two tasks on the server, one of each frontend, fill it.
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "1", ...noRescan });
    const styleUser = await createUser(gateway.url, "style", "depth-style");
    const logoUser = await createUser(gateway.url, "logo", "depth-logo");
    await untilDispatched(gateway.url, "style", await submitAccepted(gateway.url, { frontend: "style", userId: styleUser, workflow: "invert", image: image() }));
    const swatch = { frontend: "logo", userId: logoUser, workflow: "swatch", params: JSON.stringify({ width: 8, height: 8 }) };
    await untilDispatched(gateway.url, "logo", await submitAccepted(gateway.url, swatch));
    const third = await submitAccepted(gateway.url, { frontend: "style", userId: styleUser, workflow: "invert", image: image() });
    await gateway.deps.tasks.dispatchIdle();
    expect(await taskOf(gateway.url, third)).toMatchObject({ status: "queued", server: null });
    expect(fake.counters.promptPosts).toBe(2);
  });
});

const sqlite = dialectCases.find((dialect) => dialect.name === "sqlite")!;

describe("the dispatcher with one frontend's database away (SQLite)", () => {
  it("still sends the other frontends' tasks out, and tells the operator which frontend it could not count", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `a=${fake.url}`, ...noRescan });
    // logo's tasks table gone from under the gateway (a connection of the test's own).
    const logo = gateway.config.databases.logo!;
    if (logo.kind !== "sqlite") throw new Error("sqlite only");
    const own = createClient({ url: `file:${logo.file}` });
    await own.execute("ALTER TABLE photos RENAME TO photos_gone");
    own.close();
    const userId = await createUser(gateway.url, "style", "room-count");
    const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(await untilDispatched(gateway.url, "style", id)).toBe("a");
    expect(gateway.logger.entries).toContainEqual({
      level: "warn",
      message: "dispatcher: cannot count a frontend's tasks on servers",
      fields: { frontend: "logo", error: expect.any(String) },
    });
  });
});
