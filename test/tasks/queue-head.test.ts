import { describe, expect, it } from "vitest";
import type { BaseDBController } from "../../src/controllers/base-db-controller.ts";
import type { TaskRow } from "../../src/schema/index.ts";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import type { FakeComfy } from "../fake-comfy/index.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, untilDispatched, submitAccepted } from "../support/task-client.ts";
import { createTestGateway } from "../support/test-gateway.ts";
import { settableClock } from "../support/test-gateway.ts";
import { startTestServer } from "../support/test-server.ts";
import { workflowsWithTagged } from "../support/workflow-fixtures.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

async function taskOf(url: string, id: string): Promise<{ status: string; server: string | null }> {
  return (await (await apiFetch(`${url}/api/tasks/${id}?frontend=style`)).json()).task;
}

/** A queued row written straight to the database, as a submit of another replica would leave it. */
function queuedRow(db: BaseDBController, id: string, fields: { priority?: number; round: number; seq: number; serverId?: string; status?: "queued" | "running" }) {
  return db.createTask({
    id,
    userId: "head-user",
    workflow: "invert",
    params: {},
    status: fields.status ?? "queued",
    outputUrls: [],
    priority: fields.priority ?? 0,
    queueRound: fields.round,
    queueSeq: fields.seq,
    serverId: fields.serverId ?? null,
  });
}

/** Rows of waiting tasks the dispatcher has read so far (its Prometheus counter), all frontends. */
async function rowsRead(deps: { metrics: { dispatchRowsRead: { get(): Promise<{ values: Array<{ value: number }> }> } } }): Promise<number> {
  return (await deps.metrics.dispatchRowsRead.get()).values.reduce((sum, sample) => sum + sample.value, 0);
}

/** Prompt ids in the order the fake finished them. */
async function passes(deps: { metrics: { dispatchPasses: { get(): Promise<{ values: Array<{ value: number }> }> } } }): Promise<number> {
  return (await deps.metrics.dispatchPasses.get()).values.reduce((sum, entry) => sum + entry.value, 0);
}

async function finishedOrder(fake: FakeComfy): Promise<string[]> {
  return Object.keys(await (await fetch(`${fake.url}/history`)).json());
}

describe.each(dialectCases)("the head of the gateway's queue on $name", (dialect) => {
  it.skipIf(dialect.skip)("is read a page at a time in the frontend's order: priority, then round, then submit sequence; tasks on servers apart", async () => {
    const { deps } = await createTestGateway(dialect);
    const db = deps.controllers.get("style")!;
    await db.ready();
    await queuedRow(db, "r1-s5", { round: 1, seq: 5 });
    await queuedRow(db, "r0-s9", { round: 0, seq: 9 });
    await queuedRow(db, "p2-r3", { priority: 2, round: 3, seq: 1 });
    await queuedRow(db, "r1-s2", { round: 1, seq: 2 });
    await queuedRow(db, "p2-r1", { priority: 2, round: 1, seq: 7 });
    await queuedRow(db, "r0-s3", { round: 0, seq: 3 });
    await queuedRow(db, "pm1", { priority: -1, round: 0, seq: 0 });
    await queuedRow(db, "prepared", { round: 0, seq: 1, serverId: "gpu1" });
    await queuedRow(db, "running", { round: 0, seq: 0, serverId: "gpu1", status: "running" });
    const pages: string[][] = [];
    let last: TaskRow | null = null;
    for (;;) {
      const page: TaskRow[] = await db.queue.waitingPage(2, last);
      if (page.length === 0) break;
      pages.push(page.map((row) => row.id));
      last = page.at(-1)!;
    }
    expect(pages).toEqual([["p2-r1", "p2-r3"], ["r0-s3", "r0-s9"], ["r1-s2", "r1-s5"], ["pm1"]]);
    expect((await db.queue.prepared()).map((row) => row.id)).toEqual(["prepared"]);
  });

  it.skipIf(dialect.skip)("a task behind several no server can take still goes out: the pass reads further pages while a server has room", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, WORKFLOWS_DIR: workflowsWithTagged("big"), DISPATCH_HEAD_PAGE: "2" });
    const userId = await createUser(gateway.url, "style", "head-pages");
    const big: string[] = [];
    for (let i = 0; i < 5; i++) big.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() }));
    const plain = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(await untilDispatched(gateway.url, "style", plain)).not.toBe("");
    for (const id of big) expect(await taskOf(gateway.url, id)).toMatchObject({ status: "queued", server: null });
  });

  it.skipIf(dialect.skip)("tasks go to the server in the order of the head read across pages: priority first, then round-robin", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0", DISPATCH_HEAD_PAGE: "1" });
    const heavy = await createUser(gateway.url, "style", "head-heavy");
    const light = await createUser(gateway.url, "style", "head-light");
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId: heavy, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    const heavy2 = await submitAccepted(gateway.url, { frontend: "style", userId: heavy, workflow: "invert", image: image() });
    const heavy3 = await submitAccepted(gateway.url, { frontend: "style", userId: heavy, workflow: "invert", image: image() });
    const lightTask = await submitAccepted(gateway.url, { frontend: "style", userId: light, workflow: "invert", image: image() });
    const urgent = await submitAccepted(gateway.url, { frontend: "style", userId: heavy, workflow: "invert", image: image(), priority: 5 });
    fake.setOptions({ paused: false });
    const expected = [blocker, urgent, heavy2, lightTask, heavy3];
    for (const id of expected) expect((await pollQueue(gateway.url, "style", id, isFinalStatus)).at(-1)?.status).toBe("succeeded");
    const prompts = await Promise.all(expected.map(async (id) => (await gateway.deps.controllers.get("style")!.getTask(id))!.promptId));
    expect(await finishedOrder(fake)).toEqual(prompts);
  });

  it.skipIf(dialect.skip)("2,000 waiting tasks and no server with room: a submit reads none of them; room for one reads a page, and the head goes out", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0", DISPATCH_HEAD_PAGE: "16" });
    const userId = await createUser(gateway.url, "style", "head-full");
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    const db = gateway.deps.controllers.get("style")!;
    for (let chunk = 0; chunk < 40; chunk++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => queuedRow(db, `waiting-${chunk * 50 + i}`, { round: chunk * 50 + i, seq: chunk * 50 + i + 1 })));
    }
    const before = await rowsRead(gateway.deps);

    const urgent = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image(), priority: 5 });
    await gateway.deps.tasks.dispatchIdle();
    expect(await taskOf(gateway.url, urgent)).toMatchObject({ status: "queued", server: null });
    expect(await rowsRead(gateway.deps)).toBe(before);

    const cancelled = await apiFetch(`${gateway.url}/api/tasks/${blocker}?frontend=style`, { method: "DELETE" });
    expect((await cancelled.json()).task.status).toBe("cancelled");
    expect(await untilDispatched(gateway.url, "style", urgent)).not.toBe("");
    await gateway.deps.tasks.dispatchIdle();
    expect((await db.getTask("waiting-0"))?.serverId).toBeNull();
    // One page (and at most one more pass's): nowhere near the 2,000 rows waiting behind.
    expect(await rowsRead(gateway.deps)).toBeGreaterThan(before);
    expect((await rowsRead(gateway.deps)) - before).toBeLessThanOrEqual(32);
  });

  it.skipIf(dialect.skip)("submits while every server is full run no dispatch pass; the ending that frees the server dispatches the next", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0", DISPATCH_RESCAN_MS: "600000" });
    const userId = await createUser(gateway.url, "style", "full-pool");
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    await gateway.deps.tasks.dispatchIdle();
    const before = await passes(gateway.deps);

    const waiting: string[] = [];
    for (let i = 0; i < 10; i++) waiting.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    await gateway.deps.tasks.dispatchIdle();
    expect(await passes(gateway.deps)).toBe(before);
    expect(await taskOf(gateway.url, waiting[0]!)).toMatchObject({ status: "queued", server: null });

    const cancelled = await apiFetch(`${gateway.url}/api/tasks/${blocker}?frontend=style`, { method: "DELETE" });
    expect((await cancelled.json()).task.status).toBe("cancelled");
    expect(await untilDispatched(gateway.url, "style", waiting[0]!)).not.toBe("");
    expect(await taskOf(gateway.url, waiting[1]!)).toMatchObject({ status: "queued", server: null });
  });

  it.skipIf(dialect.skip)("with every server full, the rescan still finds a task no live server can take: its reason, then its failure after QUEUE_MAX_WAIT_MS", async () => {
    const fake = await fakeForTest({ paused: true });
    const clock = settableClock("2026-11-30T10:00:00.000Z");
    const env = { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0", WORKFLOWS_DIR: workflowsWithTagged("big"), QUEUE_MAX_WAIT_MS: "60000", DISPATCH_RESCAN_MS: "50" };
    const gateway = await startTestServer(dialect, env, undefined, true, clock);
    const userId = await createUser(gateway.url, "style", "head-sweep");
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    const big = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() });
    const reason = "no server that is up has the tags big this workflow needs";
    await expect.poll(async () => (await (await apiFetch(`${gateway.url}/api/tasks/${big}?frontend=style`)).json()).task.waitReason).toBe(reason);
    clock.set("2026-11-30T10:01:00.000Z");
    await expect.poll(async () => (await taskOf(gateway.url, big)).status).toBe("failed");
    expect(await taskOf(gateway.url, blocker)).toMatchObject({ status: "queued", server: expect.any(String) });
  });
});
