import { createClient } from "@libsql/client";
import mysql from "mysql2/promise";
import { describe, expect, it } from "vitest";
import type { DatabaseTarget } from "../../src/config/config.ts";
import { apiFetch } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import type { FakeComfy } from "../fake-comfy/index.ts";
import { dialectCases, type DialectCase } from "../support/dialects.ts";
import { createUser, pngBytes, untilDispatched, submitAccepted } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { workflowsWithTagged, workflowsWithTaggedEach } from "../support/workflow-fixtures.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

interface TaskView {
  status: string;
  server: string | null;
}

async function taskOf(url: string, id: string): Promise<TaskView> {
  return (await (await apiFetch(`${url}/api/tasks/${id}?frontend=style`)).json()).task as TaskView;
}

/** The prompt ids a fake lists as running and as pending. */
async function queueOf(fake: FakeComfy): Promise<{ running: string[]; pending: string[] }> {
  const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
  return { running: queue.queue_running.map((item) => String(item[1])), pending: queue.queue_pending.map((item) => String(item[1])) };
}

/** Renames a frontend's tasks table through a connection of its own: its database cannot be read. */
async function renameTasksTable(target: DatabaseTarget): Promise<void> {
  if (target.kind === "mysql") {
    const connection = await mysql.createConnection({ uri: target.url, database: target.database });
    await connection.query("RENAME TABLE photos TO photos_gone");
    await connection.end();
    return;
  }
  const client = createClient({ url: `file:${target.file}` });
  await client.execute("ALTER TABLE photos RENAME TO photos_gone");
  client.close();
}

/**
 * Server a runs a job held in its ImageInvert with one task prepared behind it; b holds two
 * prepared tasks of its own, paused. Both servers are full (DISPATCH_DEPTH=1), so nothing moves
 * until b runs its two and goes idle with nothing waiting in the gateway.
 */
async function preparedBehindHeldJob(dialect: DialectCase, env: Record<string, string> = {}, bWeight = 1) {
  const a = await fakeForTest({ holdNodes: ["ImageInvert"] });
  const b = await fakeForTest({ paused: true });
  const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${a.url},b=${b.url};weight=${bWeight}`, QUEUE_READ_WINDOW_MS: "1", ...env });
  const userId = await createUser(gateway.url, "style", "rebalance");
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
  // Two slots on each server: two tasks each, whatever order they went out in. While they go out, b
  // may be idle a moment and take one back from a: where they are once all are out is what counts.
  await Promise.all(ids.map((id) => untilDispatched(gateway.url, "style", id)));
  const style = gateway.deps.controllers.get("style")!;
  await expect.poll(() => style.countActiveByServer()).toEqual(new Map([["a", 2], ["b", 2]]));
  const servers = await Promise.all(ids.map(async (id) => (await style.getTask(id))!.serverId));
  const onA = ids.filter((_, i) => servers[i] === "a");
  expect(onA).toHaveLength(2);
  await expect.poll(async () => (await Promise.all(onA.map(async (id) => (await taskOf(gateway.url, id)).status))).sort()).toEqual(["queued", "running"]);
  const statuses = await Promise.all(onA.map(async (id) => (await taskOf(gateway.url, id)).status));
  const running = onA[statuses.indexOf("running")]!;
  const prepared = onA[statuses.indexOf("queued")]!;
  const promptOf = async (id: string) => (await gateway.deps.controllers.get("style")!.getTask(id))!.promptId!;
  const onB = ids.filter((_, i) => servers[i] === "b");
  return { a, b, gateway, running, prepared, promptOf, onB };
}

/**
 * As `preparedBehindHeldJob`, with no rescan and no lease renewal (only the passes that changes
 * start). b runs one of its two (held) and its other is cancelled; then its job ends: the one pass
 * that wakes finds b idle and tries the take-back, whose delete waits at a when this resolves.
 */
async function takeBackHeldAtA(dialect: DialectCase) {
  const setup = await preparedBehindHeldJob(dialect, { DISPATCH_RESCAN_MS: "600000", DISPATCH_LEASE_MS: "600000" });
  const { a, b, gateway, onB } = setup;
  b.setOptions({ holdNodes: ["ImageInvert"], paused: false });
  const statusesOnB = async () => Promise.all(onB.map(async (id) => (await taskOf(gateway.url, id)).status));
  await expect.poll(async () => (await statusesOnB()).sort()).toEqual(["queued", "running"]);
  const queuedOnB = onB[(await statusesOnB()).indexOf("queued")]!;
  expect((await (await apiFetch(`${gateway.url}/api/tasks/${queuedOnB}?frontend=style`, { method: "DELETE" })).json()).task.status).toBe("cancelled");
  // One slot free on b: not idle yet.
  await gateway.deps.tasks.dispatchIdle();
  a.setOptions({ holdRoutes: ["POST /queue"] });
  b.setOptions({ holdNodes: [] });
  await expect.poll(() => a.counters.held, { timeout: 15_000 }).toBe(1);
  const passes = async () => (await gateway.deps.metrics.dispatchPasses.get()).values.reduce((sum, entry) => sum + entry.value, 0);
  return { ...setup, passes };
}

describe.each(dialectCases)("an idle server takes a task prepared behind another server's job, on $name", (dialect) => {
  it.skipIf(dialect.skip)("the task moves to the idle server, runs there once, and is off the busy server's queue", async () => {
    const { a, b, gateway, running, prepared, promptOf } = await preparedBehindHeldJob(dialect);
    const onA = await promptOf(prepared);
    b.setOptions({ paused: false });
    await expect.poll(async () => taskOf(gateway.url, prepared), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "b" });
    expect(await queueOf(a)).toEqual({ running: [await promptOf(running)], pending: [] });
    expect(b.counters.promptsFinished).toBe(3);
    expect(gateway.logger.entries).toContainEqual({ level: "info", message: "a prepared task moved to an idle server", fields: { taskId: prepared, from: "a", to: "b" } });
    // a's held job ends; had the moved prompt stayed in a's queue, a would start it now.
    a.setOptions({ holdNodes: [] });
    await expect.poll(async () => (await taskOf(gateway.url, running)).status, { timeout: 15_000 }).toBe("succeeded");
    expect(await queueOf(a)).toEqual({ running: [], pending: [] });
    expect(a.counters.promptsFinished).toBe(1);
    expect(Object.keys(await (await fetch(`${a.url}/history`)).json())).not.toContain(onA);
    // Nothing is followed any more: the moved prompt's old entry on a went with the move.
    await expect.poll(() => gateway.deps.tasks.following).toBe(0);
  });

  it.skipIf(dialect.skip)("a task its server started before the take-back, unheard by the gateway, stays there and runs once", async () => {
    const { a, b, gateway, prepared, promptOf } = await preparedBehindHeldJob(dialect);
    a.setOptions({ holdRoutes: ["POST /queue"] });
    b.setOptions({ paused: false });
    // The take-back's delete has reached a and waits there.
    await expect.poll(() => a.counters.held, { timeout: 15_000 }).toBe(1);
    // Meanwhile a ends its job and starts the prepared one (held in its turn), and the gateway
    // hears none of it: the task's row still says it waits on a.
    a.setOptions({ muteSockets: true, holdNodes: [] });
    a.setOptions({ holdNodes: ["ImageInvert"] });
    const preparedPrompt = await promptOf(prepared);
    await expect.poll(async () => (await queueOf(a)).running).toEqual([preparedPrompt]);
    expect(await taskOf(gateway.url, prepared)).toMatchObject({ status: "queued", server: "a" });
    a.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    a.setOptions({ muteSockets: false, holdNodes: [] });
    await expect.poll(async () => taskOf(gateway.url, prepared), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "a" });
    expect(a.counters.promptsFinished).toBe(2);
    expect(b.counters.promptsFinished).toBe(2);
    expect(b.counters.promptPosts).toBe(2);
  });

  it.skipIf(dialect.skip)("a take-back that found the task started is not tried again on the passes after it", async () => {
    const { a, b, gateway, prepared, promptOf } = await preparedBehindHeldJob(dialect, { DISPATCH_RESCAN_MS: "50" });
    a.setOptions({ holdRoutes: ["POST /queue"] });
    b.setOptions({ paused: false });
    await expect.poll(() => a.counters.held, { timeout: 15_000 }).toBe(1);
    // a starts the prepared task before the delete lands, unheard: the row still says it waits on a.
    a.setOptions({ muteSockets: true, holdNodes: [] });
    a.setOptions({ holdNodes: ["ImageInvert"] });
    await expect.poll(async () => (await queueOf(a)).running).toEqual([await promptOf(prepared)]);
    a.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    // b stays idle and the row unchanged: every rescan's pass looks again, and leaves it.
    const passes = async () => (await gateway.deps.metrics.dispatchPasses.get()).values.reduce((sum, entry) => sum + entry.value, 0);
    const seen = await passes();
    await expect.poll(passes).toBeGreaterThanOrEqual(seen + 3);
    expect(await taskOf(gateway.url, prepared)).toMatchObject({ status: "queued", server: "a" });
    expect(a.counters.queuePosts).toBe(1);
    expect(gateway.logger.entries.filter((entry) => entry.level === "error")).toEqual([]);
  });

  it.skipIf(dialect.skip)("of a paused server's two prepared tasks the idle server takes only the one behind: the first is next on its own", async () => {
    const a = await fakeForTest({ paused: true });
    const b = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${a.url},b=${b.url}`, QUEUE_READ_WINDOW_MS: "1" });
    const userId = await createUser(gateway.url, "style", "rebalance-paused");
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    const servers = await Promise.all(ids.map((id) => untilDispatched(gateway.url, "style", id)));
    const [first, behind] = ids.filter((_, i) => servers[i] === "a");
    expect(behind).toBeDefined();
    b.setOptions({ holdNodes: [] });
    await expect.poll(async () => taskOf(gateway.url, behind!), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "b" });
    expect(await taskOf(gateway.url, first!)).toMatchObject({ status: "queued", server: "a" });
    expect(await queueOf(a)).toEqual({ running: [], pending: [(await gateway.deps.controllers.get("style")!.getTask(first!))!.promptId] });
  });

  it.skipIf(dialect.skip)("a server's line is in the order its tasks were handed over, not submitted: an urgent later task is its head", async () => {
    const a = await fakeForTest({ paused: true });
    const b = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${a.url},b=${b.url}`, QUEUE_READ_WINDOW_MS: "1" });
    const userId = await createUser(gateway.url, "style", "rebalance-urgent");
    const fillers: string[] = [];
    for (let i = 0; i < 4; i++) fillers.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    const servers = await Promise.all(fillers.map((id) => untilDispatched(gateway.url, "style", id)));
    // Both servers full: the next two wait in the gateway, the urgent one first in its order.
    const normal = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    const urgent = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image(), priority: 5 });
    // a's slots free one at a time, so the two are handed over in two passes (in one pass both claims
    // can share a millisecond, and the line's order between them is then the database's).
    const cancel = async (id: string) => (await (await apiFetch(`${gateway.url}/api/tasks/${id}?frontend=style`, { method: "DELETE" })).json()).task.status;
    const [firstOnA, secondOnA] = fillers.filter((_, i) => servers[i] === "a");
    expect(await cancel(firstOnA!)).toBe("cancelled");
    expect(await untilDispatched(gateway.url, "style", urgent)).toBe("a");
    expect(await cancel(secondOnA!)).toBe("cancelled");
    expect(await untilDispatched(gateway.url, "style", normal)).toBe("a");
    b.setOptions({ holdNodes: [] });
    await expect.poll(async () => taskOf(gateway.url, normal), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "b" });
    expect(await taskOf(gateway.url, urgent)).toMatchObject({ status: "queued", server: "a" });
  });

  it.skipIf(dialect.skip)("a task its server ran to its end before the take-back, unheard by the gateway, is not run again elsewhere", async () => {
    const { a, b, gateway, prepared, promptOf } = await preparedBehindHeldJob(dialect);
    a.setOptions({ holdRoutes: ["POST /queue"] });
    b.setOptions({ paused: false });
    await expect.poll(() => a.counters.held, { timeout: 15_000 }).toBe(1);
    // Meanwhile a runs its job and then the prepared one to their ends, and the gateway hears none of it.
    a.setOptions({ muteSockets: true, holdNodes: [] });
    const preparedPrompt = await promptOf(prepared);
    await expect.poll(async () => Object.keys(await (await fetch(`${a.url}/history`)).json())).toContain(preparedPrompt);
    a.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    // Its end is a's to report (the reconciler reads it later): it stays on a, and b never gets it.
    expect(await taskOf(gateway.url, prepared)).toMatchObject({ status: "queued", server: "a" });
    expect(b.counters.promptPosts).toBe(2);
    expect(a.counters.promptsFinished).toBe(2);
  });

  it.skipIf(dialect.skip)("the slot a moved task leaves goes at once to a task waiting in the gateway for that server", async () => {
    // a (tagged, weighing 2) runs a held job with a plain task prepared behind it; b holds a logo
    // swatch in its EmptyImage with a second behind it. No rescan, no lease renewal: only the passes that changes start.
    const a = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const b = await fakeForTest({ holdNodes: ["EmptyImage"] });
    const gateway = await startTestServer(dialect, {
      COMFY_SERVERS: `a=${a.url};weight=2;tags=big,b=${b.url}`,
      WORKFLOWS_DIR: workflowsWithTagged("big"),
      QUEUE_READ_WINDOW_MS: "1",
      DISPATCH_RESCAN_MS: "600000",
      // Each renewal of the dispatch lease runs a pass too: none during the test.
      DISPATCH_LEASE_MS: "600000",
    });
    const styleUser = await createUser(gateway.url, "style", "rebalance-slot");
    const logoUser = await createUser(gateway.url, "logo", "rebalance-slot");
    const held = await submitAccepted(gateway.url, { frontend: "style", userId: styleUser, workflow: "invert_big", image: image() });
    expect(await untilDispatched(gateway.url, "style", held)).toBe("a");
    const swatches: string[] = [];
    for (let i = 0; i < 2; i++) {
      swatches.push(await submitAccepted(gateway.url, { frontend: "logo", userId: logoUser, workflow: "swatch", params: JSON.stringify({ width: 8 + i, height: 8 }) }));
      expect(await untilDispatched(gateway.url, "logo", swatches[i]!)).toBe("b");
    }
    const prepared = await submitAccepted(gateway.url, { frontend: "style", userId: styleUser, workflow: "invert", image: image() });
    expect(await untilDispatched(gateway.url, "style", prepared)).toBe("a");
    const tagged = await submitAccepted(gateway.url, { frontend: "style", userId: styleUser, workflow: "invert_big", image: image() });
    await expect.poll(async () => (await (await apiFetch(`${gateway.url}/api/tasks/${swatches[0]}?frontend=logo`)).json()).task.status).toBe("running");
    // b starts nothing more; its second swatch is cancelled and the first let through: b goes idle
    // and takes the prepared task, which does not start there (nothing else happens to wake a pass).
    b.setOptions({ paused: true });
    expect((await (await apiFetch(`${gateway.url}/api/tasks/${swatches[1]}?frontend=logo`, { method: "DELETE" })).json()).task.status).toBe("cancelled");
    await gateway.deps.tasks.dispatchIdle();
    expect(await taskOf(gateway.url, tagged)).toMatchObject({ status: "queued", server: null });
    b.setOptions({ holdNodes: [] });
    await expect.poll(async () => taskOf(gateway.url, prepared), { timeout: 15_000 }).toMatchObject({ status: "queued", server: "b" });
    expect(await untilDispatched(gateway.url, "style", tagged)).toBe("a");
  });

  it.skipIf(dialect.skip)("a take-back its server refuses leaves the task there, says so in the log, and the task runs there once", async () => {
    const { a, b, gateway, running, prepared, promptOf } = await preparedBehindHeldJob(dialect);
    a.setOptions({ failRoutes: ["/queue"] });
    b.setOptions({ paused: false });
    const warning = () => gateway.logger.entries.find((entry) => entry.message === "could not take a prepared task back from its server; it stays there");
    await expect.poll(warning, { timeout: 15_000 }).toBeDefined();
    expect(warning()).toMatchObject({ level: "warn", fields: { server: "a", promptId: await promptOf(prepared), error: expect.any(String) } });
    a.setOptions({ failRoutes: [], holdNodes: [] });
    await expect.poll(async () => taskOf(gateway.url, prepared), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "a" });
    expect(await taskOf(gateway.url, running)).toMatchObject({ status: "succeeded", server: "a" });
    expect(b.counters.promptPosts).toBe(2);
  });

  it.skipIf(dialect.skip)("of tasks prepared on two busy servers, the idle server takes the one submitted first", async () => {
    // a (tag x, weighing 2) and c (tag y) each run a held job; b (tag z) runs two of its own, paused.
    const a = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const b = await fakeForTest({ paused: true });
    const c = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const gateway = await startTestServer(dialect, {
      COMFY_SERVERS: `a=${a.url};weight=2;tags=x,b=${b.url};tags=z,c=${c.url};tags=y`,
      WORKFLOWS_DIR: workflowsWithTaggedEach(["x", "y", "z"]),
      QUEUE_READ_WINDOW_MS: "1",
    });
    const userId = await createUser(gateway.url, "style", "rebalance-oldest");
    const dispatched = async (workflow: string) => {
      const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow, image: image() });
      return { id, server: await untilDispatched(gateway.url, "style", id) };
    };
    const placed = [await dispatched("invert_z"), await dispatched("invert_z"), await dispatched("invert_x"), await dispatched("invert_y")];
    // Untagged tasks: the first to c (more room per weight), the second to a, the only one with room
    // left. The younger is logo's first task: its queue sequence (per frontend) is the lower one.
    const older = await dispatched("invert");
    const logoUser = await createUser(gateway.url, "logo", "rebalance-oldest");
    const swatch = await submitAccepted(gateway.url, { frontend: "logo", userId: logoUser, workflow: "swatch", params: JSON.stringify({ width: 8, height: 8 }) });
    const younger = { id: swatch, server: await untilDispatched(gateway.url, "logo", swatch) };
    expect([...placed.map((task) => task.server), older.server, younger.server]).toEqual(["b", "b", "a", "c", "c", "a"]);
    b.setOptions({ paused: false });
    const logoTask = async () => (await gateway.deps.controllers.get("logo")!.getTask(younger.id))!;
    await expect.poll(async () => (await logoTask()).status, { timeout: 15_000 }).toBe("succeeded");
    expect((await logoTask()).serverId).toBe("b");
    expect(await taskOf(gateway.url, older.id)).toMatchObject({ status: "succeeded", server: "b" });
    const olderPrompt = (await gateway.deps.controllers.get("style")!.getTask(older.id))!.promptId;
    const finished = Object.keys(await (await fetch(`${b.url}/history`)).json());
    expect(finished.slice(2)).toEqual([olderPrompt, (await logoTask()).promptId]);
  });

  it.skipIf(dialect.skip)("a task being cancelled is left to its cancel, not taken back", async () => {
    const { a, b, gateway, prepared } = await preparedBehindHeldJob(dialect);
    a.setOptions({ holdRoutes: ["POST /queue"] });
    const cancelling = apiFetch(`${gateway.url}/api/tasks/${prepared}?frontend=style`, { method: "DELETE" });
    // The cancel's delete has reached a and waits there.
    await expect.poll(() => a.counters.held, { timeout: 15_000 }).toBe(1);
    b.setOptions({ paused: false });
    await expect.poll(async () => gateway.deps.controllers.get("style")!.countActiveByServer(), { timeout: 15_000 }).toEqual(new Map([["a", 2]]));
    await gateway.deps.tasks.dispatchIdle();
    expect(a.counters.held).toBe(1);
    a.setOptions({ holdRoutes: [] });
    expect((await (await cancelling).json()).task.status).toBe("cancelled");
    expect(b.counters.promptPosts).toBe(2);
  });

  it.skipIf(dialect.skip)("a poll right after a take-back counts the busy server's queue without the task taken off it", async () => {
    // Three slots a server (DISPATCH_DEPTH=2): a runs a held job with two prepared behind it, b
    // holds three of its own, paused. A /queue answer is reused for as long as nothing changes it.
    const a = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const b = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${a.url},b=${b.url}`, DISPATCH_DEPTH: "2", QUEUE_READ_WINDOW_MS: "600000" });
    const userId = await createUser(gateway.url, "style", "rebalance-place");
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    const servers = await Promise.all(ids.map((id) => untilDispatched(gateway.url, "style", id)));
    const onA = ids.filter((_, i) => servers[i] === "a");
    expect(onA).toHaveLength(3);
    await expect.poll(async () => (await taskOf(gateway.url, onA[0]!)).status).toBe("running");
    const last = onA[2]!;
    const aheadOfLast = async () => ((await (await apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${last}`)).json()) as { ahead: number }).ahead;
    expect(await aheadOfLast()).toBe(1);
    b.setOptions({ paused: false });
    await expect.poll(async () => taskOf(gateway.url, onA[1]!), { timeout: 15_000 }).toMatchObject({ server: "b" });
    expect(await aheadOfLast()).toBe(0);
  });

  it.skipIf(dialect.skip)("the idle server runs the task it took back, though its busy server now has more room per weight", async () => {
    // b weighs 4: with the task off a, a has 1 slot per weight unit free, b only 2/4.
    const { b, gateway, prepared } = await preparedBehindHeldJob(dialect, {}, 4);
    b.setOptions({ paused: false });
    await expect.poll(async () => taskOf(gateway.url, prepared), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "b" });
  });

  it.skipIf(dialect.skip)("with DISPATCH_STEAL=off the prepared task waits for its own server", async () => {
    const { a, b, gateway, running, prepared, promptOf } = await preparedBehindHeldJob(dialect, { DISPATCH_STEAL: "off" });
    b.setOptions({ paused: false });
    await expect.poll(() => b.counters.promptsFinished, { timeout: 15_000 }).toBe(2);
    await expect.poll(async () => gateway.deps.controllers.get("style")!.countActiveByServer()).toEqual(new Map([["a", 2]]));
    // The pass that b's last ending woke has run: with stealing on, it would have moved the task.
    await gateway.deps.tasks.dispatchIdle();
    expect(await queueOf(a)).toEqual({ running: [await promptOf(running)], pending: [await promptOf(prepared)] });
    a.setOptions({ holdNodes: [] });
    await expect.poll(async () => taskOf(gateway.url, prepared), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "a" });
    expect(b.counters.promptPosts).toBe(2);
  });

  it.skipIf(dialect.skip)("an idle server leaves a task whose workflow it cannot run, and takes the next one it can", async () => {
    // a (tagged, weighing 2) runs a held job with two tasks prepared behind it (DISPATCH_DEPTH=2):
    // the older needs a's tag, the younger does not. b (untagged) is full of its own, paused.
    const a = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const b = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, {
      COMFY_SERVERS: `a=${a.url};weight=2;tags=big,b=${b.url}`,
      WORKFLOWS_DIR: workflowsWithTagged("big"),
      DISPATCH_DEPTH: "2",
      QUEUE_READ_WINDOW_MS: "1",
    });
    const userId = await createUser(gateway.url, "style", "rebalance-tags");
    const dispatched = async (workflow: string) => {
      const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow, image: image() });
      return { id, server: await untilDispatched(gateway.url, "style", id) };
    };
    const held = await dispatched("invert_big");
    await expect.poll(async () => (await taskOf(gateway.url, held.id)).status).toBe("running");
    const tagged = await dispatched("invert_big");
    // b has more room per weight until it holds three: each plain task goes there, then to a.
    const onB = [await dispatched("invert"), await dispatched("invert"), await dispatched("invert")];
    const plain = await dispatched("invert");
    expect([held.server, tagged.server, plain.server, ...onB.map((task) => task.server)]).toEqual(["a", "a", "a", "b", "b", "b"]);
    b.setOptions({ paused: false });
    await expect.poll(async () => taskOf(gateway.url, plain.id), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "b" });
    expect(await taskOf(gateway.url, tagged.id)).toMatchObject({ status: "queued", server: "a" });
    a.setOptions({ holdNodes: [] });
    await expect.poll(async () => taskOf(gateway.url, tagged.id), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "a" });
    expect(b.counters.promptsFinished).toBe(4);
    expect(a.counters.promptsFinished).toBe(2);
  });
  it.skipIf(dialect.skip)("a task prepared behind a job whose workflow is no longer configured stays, and the idle server takes the next one", async () => {
    // As above (a runs a held invert_big with an invert_big and a plain task prepared behind it; b
    // is full of its own, paused); then the gateway restarts with the shipped workflows, no invert_big.
    const a = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const b = await fakeForTest({ paused: true });
    const env = { COMFY_SERVERS: `a=${a.url};weight=2;tags=big,b=${b.url}`, DISPATCH_DEPTH: "2", QUEUE_READ_WINDOW_MS: "1" };
    const first = await startTestServer(dialect, { ...env, WORKFLOWS_DIR: workflowsWithTagged("big") });
    const userId = await createUser(first.url, "style", "rebalance-unconfigured");
    const dispatched = async (workflow: string) => {
      const id = await submitAccepted(first.url, { frontend: "style", userId, workflow, image: image() });
      return { id, server: await untilDispatched(first.url, "style", id) };
    };
    const held = await dispatched("invert_big");
    await expect.poll(async () => (await taskOf(first.url, held.id)).status).toBe("running");
    const unconfigured = await dispatched("invert_big");
    const onB = [await dispatched("invert"), await dispatched("invert"), await dispatched("invert")];
    const plain = await dispatched("invert");
    expect([held.server, unconfigured.server, plain.server, ...onB.map((task) => task.server)]).toEqual(["a", "a", "a", "b", "b", "b"]);
    await first.close();
    const gateway = await startTestServer(dialect, env, first.data);
    b.setOptions({ paused: false });
    await expect.poll(async () => taskOf(gateway.url, plain.id), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "b" });
    expect(await taskOf(gateway.url, unconfigured.id)).toMatchObject({ status: "queued", server: "a" });
  });
  it.skipIf(dialect.skip)("a server whose rows say two tasks run (its first ended unheard) is asked to delete only the task waiting behind them", async () => {
    // Three slots a server (DISPATCH_DEPTH=2): a runs a held job with two prepared behind it, b
    // holds three of its own, paused.
    const a = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const b = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${a.url},b=${b.url}`, DISPATCH_DEPTH: "2", QUEUE_READ_WINDOW_MS: "1" });
    const userId = await createUser(gateway.url, "style", "rebalance-two-running");
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    const servers = await Promise.all(ids.map((id) => untilDispatched(gateway.url, "style", id)));
    const onA = ids.filter((_, i) => servers[i] === "a");
    expect(onA).toHaveLength(3);
    const statuses = async () => Promise.all(onA.map(async (id) => (await taskOf(gateway.url, id)).status));
    await expect.poll(async () => (await statuses()).sort()).toEqual(["queued", "queued", "running"]);
    // a's job ends and the gateway does not hear it; then a starts the next one, heard (and held).
    a.setOptions({ muteSockets: true, paused: true });
    a.setOptions({ holdNodes: [] });
    await expect.poll(() => a.counters.promptsFinished).toBe(1);
    a.setOptions({ muteSockets: false, holdNodes: ["ImageInvert"], paused: false });
    await expect.poll(async () => (await statuses()).sort()).toEqual(["queued", "running", "running"]);
    const behind = onA[(await statuses()).indexOf("queued")]!;
    b.setOptions({ paused: false });
    await expect.poll(async () => taskOf(gateway.url, behind), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "b" });
    // One delete, for the task behind: none for the task a runs.
    expect(a.counters.queuePosts).toBe(1);
  });
  it.skipIf(dialect.skip)("a frontend whose database cannot be read does not stop the idle server taking another frontend's prepared task", async () => {
    const { b, gateway, prepared } = await preparedBehindHeldJob(dialect);
    await renameTasksTable(gateway.config.databases["logo"]!);
    b.setOptions({ paused: false });
    await expect.poll(async () => taskOf(gateway.url, prepared), { timeout: 15_000 }).toMatchObject({ status: "succeeded", server: "b" });
  });
  it.skipIf(dialect.skip)("a take-back that found the task started is not counted a move: no pass runs after it", async () => {
    const { a, gateway, prepared, promptOf, passes } = await takeBackHeldAtA(dialect);
    // a starts the prepared task before the delete lands, unheard: the row still says it waits on a.
    a.setOptions({ muteSockets: true, holdNodes: [] });
    a.setOptions({ holdNodes: ["ImageInvert"] });
    await expect.poll(async () => (await queueOf(a)).running).toEqual([await promptOf(prepared)]);
    const seen = await passes();
    a.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    // Had the pass taken it for a move (a's room back), it would have run one more.
    expect(await passes()).toBe(seen);
    expect(await taskOf(gateway.url, prepared)).toMatchObject({ status: "queued", server: "a" });
  });

  it.skipIf(dialect.skip)("a take-back whose release cannot be written is not counted a move: no pass runs after it", async () => {
    const { a, gateway, passes } = await takeBackHeldAtA(dialect);
    // The delete lands; the take-back's read of a's queue waits while the database goes away.
    a.setOptions({ holdRoutes: ["GET /queue"] });
    await expect.poll(() => a.counters.held).toBe(2);
    await renameTasksTable(gateway.config.databases["style"]!);
    const seen = await passes();
    a.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    expect(await passes()).toBe(seen);
  });
  it.skipIf(dialect.skip)("a task cancelled while its take-back reads a's queue ends cancelled and is not reported moved", async () => {
    const { a, b, gateway, prepared } = await preparedBehindHeldJob(dialect);
    a.setOptions({ holdRoutes: ["POST /queue"] });
    b.setOptions({ paused: false });
    // The take-back's delete waits at a; then the cancel's does.
    await expect.poll(() => a.counters.held, { timeout: 15_000 }).toBe(1);
    const cancelling = apiFetch(`${gateway.url}/api/tasks/${prepared}?frontend=style`, { method: "DELETE" });
    await expect.poll(() => a.counters.held, { timeout: 15_000 }).toBe(2);
    // Both deletes land; the take-back's read of a's queue waits while the cancel ends the task.
    a.setOptions({ holdRoutes: ["GET /queue"] });
    expect((await (await cancelling).json()).task.status).toBe("cancelled");
    await expect.poll(() => a.counters.held).toBe(3);
    a.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    expect(await taskOf(gateway.url, prepared)).toMatchObject({ status: "cancelled" });
    expect(gateway.logger.entries.filter((entry) => entry.message === "a prepared task moved to an idle server")).toEqual([]);
    expect(b.counters.promptPosts).toBe(2);
  });
  it.skipIf(dialect.skip)("a take-back whose release cannot be written is not reported moved", async () => {
    const { a, b, gateway } = await preparedBehindHeldJob(dialect);
    a.setOptions({ holdRoutes: ["POST /queue"] });
    b.setOptions({ paused: false });
    await expect.poll(() => a.counters.held, { timeout: 15_000 }).toBe(1);
    // The delete lands; the take-back's read of a's queue waits while the database goes away.
    a.setOptions({ holdRoutes: ["GET /queue"] });
    await expect.poll(() => a.counters.held).toBe(2);
    await renameTasksTable(gateway.config.databases["style"]!);
    a.setOptions({ holdRoutes: [] });
    await gateway.deps.tasks.dispatchIdle();
    expect(gateway.logger.entries.filter((entry) => entry.message === "a prepared task moved to an idle server")).toEqual([]);
  });
});
