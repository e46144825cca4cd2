import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask, untilDispatched, type SubmitFields } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { workflowsWithTagged } from "../support/workflow-fixtures.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

describe.each(dialectCases)("submitting and steering tasks on $name", (dialect) => {
  it.skipIf(dialect.skip)("the same Idempotency-Key, sent twice and concurrently, makes one task and one prompt", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageInvert: 300 } });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "idem");
    const fields: SubmitFields = { frontend: "style", userId, workflow: "invert", image: image() };
    const key = { "Idempotency-Key": "order-42:retry" };

    const concurrent = await Promise.all([1, 2, 3].map(() => submitTask(gateway.url, fields, key)));
    const later = await submitTask(gateway.url, fields, key);
    const bodies = await Promise.all([...concurrent, later].map(async (answer) => ({ status: answer.status, body: await answer.json() })));
    expect(bodies.map((b) => b.status)).toEqual([202, 202, 202, 202]);
    expect(new Set(bodies.map((b) => JSON.stringify(b.body))).size).toBe(1);
    // The one that did the work is a first answer; the others, concurrent or later, are replays.
    expect(concurrent.map((answer) => answer.headers.get("idempotent-replayed")).sort()).toEqual([null, "true", "true"].sort());
    expect(later.headers.get("idempotent-replayed")).toBe("true");
    // The task waits in the gateway first: count the prompts once it is on the server.
    await untilDispatched(gateway.url, "style", bodies[0]!.body.task.id);
    expect(fake.counters.promptPosts).toBe(1);

    const other = await submitTask(gateway.url, fields, { "Idempotency-Key": "order-43" });
    const otherTask = (await other.json()).task;
    expect(otherTask.id).not.toBe(bodies[0]!.body.task.id);
    await untilDispatched(gateway.url, "style", otherTask.id);
    expect(fake.counters.promptPosts).toBe(2);
    const bad = await submitTask(gateway.url, fields, { "Idempotency-Key": "spaces are not allowed" });
    expect(bad.status).toBe(400);
  });

  it.skipIf(dialect.skip)("replays of an Idempotency-Key, concurrent or later, keep only the first submit's input image", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "idem-files");
    const fields: SubmitFields = { frontend: "style", userId, workflow: "invert", image: image() };
    const key = { "Idempotency-Key": "order-44" };
    const answers = await Promise.all([1, 2, 3].map(() => submitTask(gateway.url, fields, key)));
    answers.push(await submitTask(gateway.url, fields, key));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    const inputs = path.join(gateway.config.dataDir, "files", "style", "inputs");
    expect(readdirSync(inputs, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())).toHaveLength(1);
  });

  it.skipIf(dialect.skip)("200 clients polling one task cost a handful of upstream /queue reads", async () => {
    // Paused, so both tasks wait and every poll, however slow the machine, sees one task ahead.
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "250" });
    const userId = await createUser(gateway.url, "style", "pollers");
    await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() }); // the task ahead
    const mine = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()).task;
    const readsBefore = fake.counters.queueReads;
    const startedAt = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${mine.id}`).then((r) => r.json())),
    );
    const elapsedWindows = Math.ceil((Date.now() - startedAt) / 250) + 1;
    const reads = fake.counters.queueReads - readsBefore;
    expect([...new Set(answers.map((a) => JSON.stringify(a)))]).toEqual([JSON.stringify({ taskId: mine.id, status: "queued", running: false, ahead: 1 })]);
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(elapsedWindows);
    fake.setOptions({ paused: false });
    expect((await pollQueue(gateway.url, "style", mine.id, isFinalStatus)).at(-1)?.status).toBe("succeeded");
  });

  it.skipIf(dialect.skip)("a task queued after the cached /queue answer is polled at its real place, at a bounded cost", async () => {
    const fake = await fakeForTest({ paused: true });
    // A long window: without invalidation every poll below would be served the stale answer.
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "10000" });
    const userId = await createUser(gateway.url, "style", "warm-cache");
    const submit = async () => (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()).task;
    const first = await submit();
    await submit();
    const warm = await (await apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${first.id}`)).json();
    expect(warm).toMatchObject({ status: "queued", ahead: 0 });

    const mine = await submit();
    const before = { ...fake.counters };
    const answers = [];
    for (let i = 0; i < 50; i++) answers.push(await (await apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${mine.id}`)).json());
    expect(answers.every((a) => a.status === "queued" && a.running === false && a.ahead === 2)).toBe(true);
    // Two tasks fill the server (its running one and one prepared): the third waits in the
    // gateway, whose own queue answers its polls without asking ComfyUI.
    expect(fake.counters.queueReads - before.queueReads).toBeLessThanOrEqual(1);
    expect(fake.counters.historyReads - before.historyReads).toBe(0);
    fake.setOptions({ paused: false });
    expect((await pollQueue(gateway.url, "style", mine.id, isFinalStatus)).at(-1)?.status).toBe("succeeded");
  });

  it.skipIf(dialect.skip)("a running task is answered running without reading /queue", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageInvert: 800 } });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "1" });
    const userId = await createUser(gateway.url, "style", "running-poll");
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await expect.poll(async () => (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json()).task.status).toBe("running");
    const readsBefore = fake.counters.queueReads;
    const answers = await Promise.all(Array.from({ length: 20 }, () => apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${task.id}`).then((r) => r.json())));
    expect(answers.every((a) => a.status === "running" && a.running === true && a.ahead === 0)).toBe(true);
    expect(fake.counters.queueReads).toBe(readsBefore);
  });

  /** A running job and a pending one behind it on a fake imitating `version`. */
  async function runningAndPending(version: "0.3.14" | "current", withPending = true) {
    // With a pending job, the running one is held at its invert until the test ends (however slow
    // the machine); alone, it outlasts any cancel round trip and an interrupt lands at the node after it.
    const fake = await fakeForTest(withPending ? { version, holdNodes: ["ImageInvert"] } : { version, nodeDelayMs: { ImageInvert: 5_000 } });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "cancel");
    const submit = async () => (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()).task as { id: string };
    const running = await submit();
    const pending = withPending ? await submit() : null;
    await pollQueue(gateway.url, "style", running.id, (a) => a.running);
    // The pending one on ComfyUI's queue too (it waits in the gateway until handed over).
    if (pending) await untilDispatched(gateway.url, "style", pending.id);
    const cancel = async (taskId: string) => apiFetch(`${gateway.url}/api/tasks/${taskId}?frontend=style`, { method: "DELETE" });
    return { fake, gateway, submit, running, pending, cancel };
  }

  // 0.3.x interrupts whatever runs, so the gateway reads /queue first; current releases take the prompt id.
  it.skipIf(dialect.skip).each(["0.3.14", "current"] as const)("a cancel on ComfyUI %s takes a pending job off its queue", async (version) => {
    const { fake, gateway, pending, cancel } = await runningAndPending(version);
    const answer = await cancel(pending!.id);
    expect(answer.status).toBe(200);
    expect((await answer.json()).task.status).toBe("cancelled");
    // The prompt really left ComfyUI's queue (items carry prompt ids, not task ids).
    const { promptId } = (await gateway.deps.controllers.get("style")!.getTask(pending!.id))!;
    const queue = await (await fetch(`${fake.url}/queue`)).json();
    expect(queue.queue_pending).toEqual([]);
    expect(queue.queue_running.map((item: unknown[]) => item[1])).not.toContain(promptId);
  });

  it.skipIf(dialect.skip).each(["0.3.14", "current"] as const)("a cancel on ComfyUI %s interrupts a running job, which stays cancelled once ComfyUI stops it", async (version) => {
    const { fake, gateway, submit, running, cancel } = await runningAndPending(version, false);
    const interruptsBefore = fake.counters.interrupts;
    expect((await (await cancel(running.id)).json()).task.status).toBe("cancelled");
    expect(fake.counters.interrupts).toBe(interruptsBefore + 1);
    // ComfyUI's own end of the interrupted run came later on the same
    // stream as the next job's success: once that one is recorded, the interrupt's was handled.
    fake.setOptions({ nodeDelayMs: {} });
    const next = await submit();
    expect((await pollQueue(gateway.url, "style", next.id, isFinalStatus)).at(-1)?.status).toBe("succeeded");
    expect((await (await apiFetch(`${gateway.url}/api/tasks/${running.id}?frontend=style`)).json()).task.status).toBe("cancelled");
  });

  it.skipIf(dialect.skip)("a task the client is cancelling ends cancelled when an interrupt from elsewhere stops it first", async () => {
    const fake = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "cancel-raced");
    const { task } = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()) as { task: { id: string } };
    await pollQueue(gateway.url, "style", task.id, (a) => a.running);
    // The cancel stops at its own /queue read, after the gateway has taken note of it.
    fake.setOptions({ holdRoutes: ["GET /queue"] });
    const heldBefore = fake.counters.held;
    const cancelled = apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`, { method: "DELETE" });
    await expect.poll(() => fake.counters.held).toBeGreaterThan(heldBefore);
    // Meanwhile someone else (an operator, another gateway's cancel) interrupts the run.
    await fetch(`${fake.url}/interrupt`, { method: "POST", body: "{}" });
    fake.setOptions({ holdNodes: [] });
    const status = async () => (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json()).task.status as string;
    await expect.poll(status).not.toBe("running");
    fake.setOptions({ holdRoutes: [] });
    expect((await (await cancelled).json()).task.status).toBe("cancelled");
    expect(await status()).toBe("cancelled");
  });

  it.skipIf(dialect.skip)("a cancel after ComfyUI ended the run, before the gateway heard it, keeps that end", async () => {
    const fake = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "cancel-unheard-end");
    const { task } = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()) as { task: { id: string } };
    await pollQueue(gateway.url, "style", task.id, (a) => a.running);
    // The run ends while its messages are lost: only ComfyUI knows it succeeded.
    fake.setOptions({ muteSockets: true, holdNodes: [] });
    await expect.poll(() => fake.counters.promptsFinished).toBe(1);
    const answer = await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`, { method: "DELETE" });
    const row = (await answer.json()).task;
    expect(row.status).toBe("succeeded");
    expect(row.outputUrls).toHaveLength(1);
  });

  it.skipIf(dialect.skip)("a cancel leaves a finished job as it is", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "cancel-finished");
    const { task } = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()) as { task: { id: string } };
    await pollQueue(gateway.url, "style", task.id, isFinalStatus);
    const again = await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`, { method: "DELETE" });
    expect(again.status).toBe(200);
    expect((await again.json()).task.status).toBe("succeeded");
  });

  it.skipIf(dialect.skip)("a cancel of an unknown task answers 404 not_found", async () => {
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: (await fakeForTest()).url });
    const answer = await apiFetch(`${gateway.url}/api/tasks/nope?frontend=style`, { method: "DELETE" });
    expect(answer.status).toBe(404);
    expect((await answer.json()).error.code).toBe("not_found");
  });

  // Early binding (SCHEDULING=early) picks the server at submit; test/tasks/gateway-queue.test.ts has the late twins.
  it.skipIf(dialect.skip)("a template that requires a server tag only runs on servers with it; none up is 503", async () => {
    const plain = await fakeForTest({ paused: true });
    const tagged = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { SCHEDULING: "early", COMFY_SERVERS: `a=${plain.url},b=${tagged.url};tags=big`, WORKFLOWS_DIR: workflowsWithTagged("big") });
    const userId = await createUser(gateway.url, "style", "tagged");
    // Paused fakes keep every task queued, so b fills up while a stays idle: only the tag keeps tasks off a.
    for (let i = 0; i < 3; i++) {
      const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() });
      expect(answer.status).toBe(202);
      expect((await answer.json()).task.server).toBe("b");
    }
    expect(plain.counters.promptPosts).toBe(0);
    const untagged = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect((await untagged.json()).task.server).toBe("a");

    await tagged.stop();
    // Two failed checks in a row mark a server that was up as down.
    for (let i = 0; i < 2; i++) await apiFetch(`${gateway.url}/api/servers?refresh=1`);
    const none = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() });
    expect(none.status).toBe(503);
    expect((await none.json()).error).toMatchObject({
      code: "comfy_unavailable",
      message: "No ComfyUI server can take this task now (none that is up has the tags, node classes and model files this workflow needs); try again shortly",
    });
  });

  it.skipIf(dialect.skip)("a template that needs a checkpoint runs only on servers that have the file", async () => {
    const bare = await fakeForTest({ paused: true, checkpoints: [] });
    const equipped = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { SCHEDULING: "early", COMFY_SERVERS: `bare=${bare.url},equipped=${equipped.url}` });
    const userId = await createUser(gateway.url, "logo", "models");
    const params = JSON.stringify({ prompt: "a fox", steps: 2, width: 256, height: 256 });
    // Paused: "equipped" fills up while "bare" stays idle, yet takes none of them.
    for (let i = 0; i < 3; i++) {
      const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params });
      expect(answer.status).toBe(202);
      expect((await answer.json()).task.server).toBe("equipped");
    }
    expect(bare.counters.promptPosts).toBe(0);
    const modelFree = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "swatch", params: JSON.stringify({ width: 8, height: 8 }) });
    expect((await modelFree.json()).task.server).toBe("bare");
  });

  it.skipIf(dialect.skip)("a server failing during submission hands the task to the next; none left is 503 and no row", async () => {
    const broken = await fakeForTest();
    const healthy = await fakeForTest();
    const gateway = await startTestServer(dialect, { SCHEDULING: "early", COMFY_SERVERS: `a=${broken.url},b=${healthy.url}` });
    const userId = await createUser(gateway.url, "style", "failover");
    // Both are up at the last check; then `a` starts answering 500.
    broken.setOptions({ fail500: true });
    const brokenBefore = broken.counters.requests;
    const answers = await Promise.all([1, 2].map(() => submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })));
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect((await answer.json()).task.server).toBe("b");
    }
    // `a` was tried (and failed) before `b` took the task, not skipped.
    expect(broken.counters.requests).toBeGreaterThan(brokenBefore);
    expect(gateway.logger.entries.some((e) => e.message.includes("trying another server") && e.fields?.serverId === "a")).toBe(true);
    healthy.setOptions({ fail500: true });
    const none = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(none.status).toBe(503);
    expect((await none.json()).error).toMatchObject({ code: "comfy_unavailable", message: "No ComfyUI server can take this task now (the servers tried failed); try again shortly" });
    const list = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(list.items).toHaveLength(2);
  });
});
