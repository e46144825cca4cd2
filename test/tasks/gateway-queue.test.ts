import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import type { FakeComfy } from "../fake-comfy/index.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, untilDispatched, type QueueAnswer, submitAccepted } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { settableClock } from "../support/test-gateway.ts";
import { workflowsWithBroken, workflowsWithTagged } from "../support/workflow-fixtures.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

async function taskOf(url: string, frontend: string, id: string) {
  return (await (await apiFetch(`${url}/api/tasks/${id}?frontend=${frontend}`)).json()).task;
}

async function placeOf(url: string, frontend: string, id: string): Promise<QueueAnswer> {
  return (await (await apiFetch(`${url}/api/queue?frontend=${frontend}&taskId=${id}`)).json()) as QueueAnswer;
}

/** Submits and returns the task id (202 expected). */
/** Prompt ids in the order the fake finished them. */
async function finishedOrder(fake: FakeComfy): Promise<string[]> {
  return Object.keys(await (await fetch(`${fake.url}/history`)).json());
}

describe.each(dialectCases)("the gateway's own queue on $name", (dialect) => {
  // One task on the server at a time (DISPATCH_DEPTH=0) and the fake paused: every other task
  // waits in the gateway, where its place is the fair order's alone.
  const oneAtATime = (fake: FakeComfy, extra: Record<string, string> = {}) =>
    startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0", QUEUE_READ_WINDOW_MS: "1", ...extra });

  it.skipIf(dialect.skip)("round-robins between users: a light user's task comes one round after a heavy user's backlog, and runs so", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await oneAtATime(fake);
    const heavy = await createUser(gateway.url, "style", "heavy");
    const light = await createUser(gateway.url, "style", "light");
    const heavyIds: string[] = [];
    for (let i = 0; i < 4; i++) heavyIds.push(await submitAccepted(gateway.url, { frontend: "style", userId: heavy, workflow: "invert", image: image() }));
    await untilDispatched(gateway.url, "style", heavyIds[0]!);
    const lightId = await submitAccepted(gateway.url, { frontend: "style", userId: light, workflow: "invert", image: image() });
    // heavy #1 is on the server; then heavy #2, light, heavy #3, heavy #4.
    expect(await placeOf(gateway.url, "style", lightId)).toEqual({ taskId: lightId, status: "queued", running: false, ahead: 2 });
    expect((await placeOf(gateway.url, "style", heavyIds[3]!)).ahead).toBe(4);
    fake.setOptions({ paused: false });
    for (const id of [...heavyIds, lightId]) expect((await pollQueue(gateway.url, "style", id, isFinalStatus)).at(-1)?.status).toBe("succeeded");
    const prompts = await Promise.all([...heavyIds, lightId].map(async (id) => (await gateway.deps.controllers.get("style")!.getTask(id))!.promptId));
    const order = await finishedOrder(fake);
    expect(order.indexOf(prompts[4]!)).toBe(2);
  });

  it.skipIf(dialect.skip)("weighs frontends as FRONTEND_WEIGHTS says", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await oneAtATime(fake, { FRONTEND_WEIGHTS: "style:2,logo:1" });
    const styleUser = await createUser(gateway.url, "style", "weights-style");
    const logoUser = await createUser(gateway.url, "logo", "weights-logo");
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId: styleUser, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    const logo: string[] = [];
    const style: string[] = [];
    for (let i = 0; i < 3; i++) logo.push(await submitAccepted(gateway.url, { frontend: "logo", userId: logoUser, workflow: "swatch", params: JSON.stringify({ width: 8 + i, height: 8 }) }));
    for (let i = 0; i < 3; i++) style.push(await submitAccepted(gateway.url, { frontend: "style", userId: styleUser, workflow: "invert", image: image() }));
    // Two style tasks per logo task while both wait: s1, l1 (older on a tie), s2, s3, l2, l3; the blocker is ahead of all.
    const aheads = async (frontend: string, ids: string[]) => Promise.all(ids.map(async (id) => (await placeOf(gateway.url, frontend, id)).ahead));
    expect(await aheads("style", style)).toEqual([1, 3, 4]);
    expect(await aheads("logo", logo)).toEqual([2, 5, 6]);
  });

  it.skipIf(dialect.skip)("a frontend key's priority moves its task ahead of that frontend's others; a user token may not set one", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await oneAtATime(fake);
    const userId = await createUser(gateway.url, "style", "priority");
    const first = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", first);
    const normal = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    const urgent = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image(), priority: 5 });
    expect((await placeOf(gateway.url, "style", urgent)).ahead).toBe(1);
    expect((await placeOf(gateway.url, "style", normal)).ahead).toBe(2);

    const minted = await apiFetch(`${gateway.url}/api/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ frontend: "style", userId }) });
    const { token } = await minted.json();
    const form = new FormData();
    for (const [key, value] of Object.entries({ frontend: "style", workflow: "invert", priority: "5" })) form.set(key, value);
    form.set("image", new File([new Uint8Array(pngBytes())], "in.png", { type: "image/png" }));
    const refused = await apiFetch(`${gateway.url}/api/tasks`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("forbidden");
  });

  it.skipIf(dialect.skip)("a task that ends sends the next waiting one to its server at once, not at the next rescan", async () => {
    const fake = await fakeForTest({ paused: true });
    // Neither the rescan nor the lease's timer comes round during the test: only the ending can wake the dispatcher.
    const gateway = await oneAtATime(fake, { DISPATCH_RESCAN_MS: "600000", DISPATCH_LEASE_MS: "600000" });
    const userId = await createUser(gateway.url, "style", "ending-wakes");
    const first = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", first);
    const next = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(await taskOf(gateway.url, "style", next)).toMatchObject({ status: "queued", server: null });
    fake.setOptions({ paused: false });
    await expect.poll(async () => (await taskOf(gateway.url, "style", next)).status, { timeout: 15_000 }).toBe("succeeded");
    expect(fake.counters.promptsFinished).toBe(2);
  });

  it.skipIf(dialect.skip)("a task cancelled while it waits in the gateway ends cancelled and never reaches ComfyUI; the one behind moves up", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await oneAtATime(fake);
    const userId = await createUser(gateway.url, "style", "cancel-waiting");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    await untilDispatched(gateway.url, "style", ids[0]!);
    expect((await placeOf(gateway.url, "style", ids[2]!)).ahead).toBe(2);
    const cancelled = await apiFetch(`${gateway.url}/api/tasks/${ids[1]}?frontend=style`, { method: "DELETE" });
    expect((await cancelled.json()).task.status).toBe("cancelled");
    expect((await placeOf(gateway.url, "style", ids[2]!)).ahead).toBe(1);
    fake.setOptions({ paused: false });
    expect((await pollQueue(gateway.url, "style", ids[2]!, isFinalStatus)).at(-1)?.status).toBe("succeeded");
    expect(fake.counters.promptPosts).toBe(2);
  });

  it.skipIf(dialect.skip)("a task goes only to a server with its tag; a full tagged server leaves it waiting, not sent elsewhere", async () => {
    const plain = await fakeForTest({ paused: true });
    const tagged = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${plain.url},b=${tagged.url};tags=big`, WORKFLOWS_DIR: workflowsWithTagged("big") });
    const userId = await createUser(gateway.url, "style", "tagged-late");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() }));
    expect(await untilDispatched(gateway.url, "style", ids[0]!)).toBe("b");
    expect(await untilDispatched(gateway.url, "style", ids[1]!)).toBe("b");
    // b holds its running task and one prepared: the third waits for b, with no reason to give.
    const untagged = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(await untilDispatched(gateway.url, "style", untagged)).toBe("a");
    expect(await taskOf(gateway.url, "style", ids[2]!)).toMatchObject({ status: "queued", server: null, waitReason: null });
    expect(plain.counters.promptPosts).toBe(1);
  });

  it.skipIf(dialect.skip)("a task no live server can take says why, then fails once it waited QUEUE_MAX_WAIT_MS", async () => {
    const fake = await fakeForTest();
    const clock = settableClock("2026-11-30T10:00:00.000Z");
    const gateway = await startTestServer(
      dialect,
      { COMFY_SERVERS: fake.url, WORKFLOWS_DIR: workflowsWithTagged("big"), QUEUE_MAX_WAIT_MS: "60000", DISPATCH_RESCAN_MS: "50" },
      undefined,
      true,
      clock,
    );
    const userId = await createUser(gateway.url, "style", "no-server");
    const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() });
    await expect.poll(async () => (await taskOf(gateway.url, "style", id)).waitReason).toBe("no server that is up has the tags big this workflow needs");
    expect(await taskOf(gateway.url, "style", id)).toMatchObject({ status: "queued", server: null });
    clock.set("2026-11-30T10:01:00.000Z");
    await expect.poll(async () => (await taskOf(gateway.url, "style", id)).status).toBe("failed");
    expect(await taskOf(gateway.url, "style", id)).toMatchObject({
      error: "No ComfyUI server could take this task within 60 s: no server that is up has the tags big this workflow needs",
      waitReason: null,
    });
    expect(fake.counters.promptPosts).toBe(0);
  });

  it.skipIf(dialect.skip)("a prompt ComfyUI refuses ends its task failed with ComfyUI's reason", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, WORKFLOWS_DIR: workflowsWithBroken() });
    const userId = await createUser(gateway.url, "style", "refused-late");
    const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "broken" });
    expect((await pollQueue(gateway.url, "style", id, isFinalStatus)).at(-1)?.status).toBe("failed");
    expect((await taskOf(gateway.url, "style", id)).error).toMatch(/^ComfyUI refused the task: /);
  });

  it.skipIf(dialect.skip)("tasks dispatched to a server that dies before starting them run elsewhere, each once", async () => {
    const doomed = await fakeForTest({ paused: true });
    const spare = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `a=${doomed.url},b=${spare.url}`, COMFY_LOST_AFTER_MS: "300" });
    const userId = await createUser(gateway.url, "style", "lost-server");
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    const servers = await Promise.all(ids.map((id) => untilDispatched(gateway.url, "style", id)));
    expect(servers.filter((s) => s === "a")).toHaveLength(2);
    const onDoomed = ids.filter((_, i) => servers[i] === "a");
    await doomed.kill();
    // Back in the gateway's queue, not failed.
    for (const id of onDoomed) await expect.poll(async () => (await taskOf(gateway.url, "style", id)).server).toBeNull();
    for (const id of onDoomed) expect((await taskOf(gateway.url, "style", id)).status).toBe("queued");
    spare.setOptions({ paused: false });
    for (const id of ids) expect((await pollQueue(gateway.url, "style", id, isFinalStatus)).at(-1)?.status).toBe("succeeded");
    expect(spare.counters.promptsFinished).toBe(4);
    // The dead server comes back with its old queue: the gateway takes those prompts off it.
    await doomed.start();
    await expect.poll(async () => (await (await fetch(`${doomed.url}/queue`)).json()).queue_pending, { timeout: 20_000 }).toEqual([]);
    doomed.setOptions({ paused: false });
    expect(doomed.counters.promptsFinished).toBe(0);
  });

  it.skipIf(dialect.skip)("a task submitted after a gateway restart queues behind one of the same round submitted before it", async () => {
    const fake = await fakeForTest({ paused: true });
    const env = { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0" };
    const first = await startTestServer(dialect, env);
    const [blockerUser, before, after] = await Promise.all(["seq-z", "seq-x", "seq-y"].map((name) => createUser(first.url, "style", name)));
    const blocker = await submitAccepted(first.url, { frontend: "style", userId: blockerUser!, workflow: "invert", image: image() });
    await untilDispatched(first.url, "style", blocker);
    const older = await submitAccepted(first.url, { frontend: "style", userId: before!, workflow: "invert", image: image() });
    await first.close();
    const second = await startTestServer(dialect, env, first.data);
    const newer = await submitAccepted(second.url, { frontend: "style", userId: after!, workflow: "invert", image: image() });
    // Both wait in the round being served: the submit sequence, by time across processes, decides.
    expect((await placeOf(second.url, "style", older)).ahead).toBe(1);
    expect((await placeOf(second.url, "style", newer)).ahead).toBe(2);
  });

  // The gateway's clock stands still, so every submit lands in the same millisecond. Were they tied,
  // the random task ids would order them (eight in submit order by chance: 1 in 40,320).
  it.skipIf(dialect.skip)("tasks of one round submitted within the same millisecond queue in the order they were submitted", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0" }, undefined, true, settableClock("2026-11-30T10:00:00.000Z"));
    const users = await Promise.all(Array.from({ length: 9 }, (_, i) => createUser(gateway.url, "style", `same-ms-${i}`)));
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId: users[0]!, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    const ids: string[] = [];
    for (const userId of users.slice(1)) ids.push(await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    const aheads = await Promise.all(ids.map(async (id) => (await placeOf(gateway.url, "style", id)).ahead));
    expect(aheads).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.skipIf(dialect.skip)("a closed task service sends nothing more to ComfyUI: a task recorded after it closed waits for the next run", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "closed-service");
    // As at shutdown, before the databases close: the dispatcher, the reconciler and the streams stop.
    await gateway.deps.tasks.close();
    const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    // A pass the submit started (there is none once closed) would have handed the task over by now.
    await gateway.deps.tasks.dispatchIdle();
    expect(await taskOf(gateway.url, "style", id)).toMatchObject({ status: "queued", server: null });
    expect(fake.counters.promptPosts).toBe(0);
  });

  it.skipIf(dialect.skip)("a gateway restarted with tasks waiting in its queue runs them after the restart", async () => {
    const fake = await fakeForTest({ paused: true });
    const env = { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0" };
    const first = await startTestServer(dialect, env);
    const userId = await createUser(first.url, "style", "restart-queue");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await submitAccepted(first.url, { frontend: "style", userId, workflow: "invert", image: image() }));
    await untilDispatched(first.url, "style", ids[0]!);
    expect((await taskOf(first.url, "style", ids[2]!)).server).toBeNull();
    await first.close();
    const second = await startTestServer(dialect, env, first.data);
    fake.setOptions({ paused: false });
    for (const id of ids) expect((await pollQueue(second.url, "style", id, isFinalStatus)).at(-1)?.status).toBe("succeeded");
    expect(fake.counters.promptPosts).toBe(3);
  });
});
