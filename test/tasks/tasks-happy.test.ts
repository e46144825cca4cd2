import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import type { FakeComfy } from "../fake-comfy/index.ts";
import { decodePng } from "../fake-comfy/png.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask, type QueueAnswer } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

/** Lets the paused fake start exactly one prompt: un-pausing kicks the worker, which takes one at once. */
function runOne(fake: FakeComfy): void {
  fake.setOptions({ paused: false });
  fake.setOptions({ paused: true });
}

const sameAnswer = (a: QueueAnswer, b: QueueAnswer) => a.status === b.status && a.ahead === b.ahead && a.running === b.running;

/**
 * Drives three queued tasks through a paused fake one at a time, polling the last one, so every
 * place in line is held long enough to be seen: returns its distinct answers in order. `ahead`
 * counts the tasks that will start before it: the first two are handed to the server (its running
 * one and one prepared), the third waits in the gateway.
 */
async function walkTheQueue(fake: FakeComfy, url: string, frontend: string, ids: string[]): Promise<QueueAnswer[]> {
  const last = ids[2]!;
  const answers: QueueAnswer[] = [];
  const until = async (done: (a: QueueAnswer) => boolean) => answers.push(...(await pollQueue(url, frontend, last, done)));
  await until((a) => a.status === "queued"); // two prepared on the server: two ahead
  // The first two reach the paused server before one is let run (a run let go earlier finds nothing).
  await expect.poll(() => fake.counters.promptPosts).toBe(2);
  runOne(fake); // first runs: one will start before it
  await until((a) => a.ahead === 1);
  await pollQueue(url, frontend, ids[0]!, isFinalStatus); // first done: the third goes to the server, behind the second
  await until((a) => a.ahead === 1);
  runOne(fake); // second runs: first in line
  await until((a) => a.ahead === 0);
  fake.setOptions({ paused: false });
  await until(isFinalStatus);
  return answers.filter((answer, i) => i === 0 || !sameAnswer(answer, answers[i - 1]!));
}

const expectedWalk = (taskId: string) => [
  { taskId, status: "queued", running: false, ahead: 2 },
  { taskId, status: "queued", running: false, ahead: 1 },
  { taskId, status: "queued", running: false, ahead: 0 },
  { taskId, status: "running", running: true, ahead: 0 },
  { taskId, status: "succeeded", running: false, ahead: 0 },
];

describe.each(dialectCases)("tasks end to end on $name", (dialect) => {
  /** A style gateway over a fake paused or not, and a submit of one 6×4 PNG upload. */
  async function styleGateway(paused: boolean) {
    const fake = await fakeForTest({ msPerStep: 1, nodeDelayMs: { ImageInvert: 250 }, paused });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "5" });
    const userId = await createUser(gateway.url, "style", "e2e-style");
    const input = pngBytes(6, 4, 0x204060);
    const submit = () => submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: input, type: "image/png", name: "me.png" } });
    return { fake, gateway, userId, submit };
  }

  it.skipIf(dialect.skip)("style: an upload is answered 202 with a queued task and the Server-Timing of each stage", async () => {
    const { submit } = await styleGateway(true);
    const answer = await submit();
    expect(answer.status).toBe(202);
    const stages = (answer.headers.get("server-timing") ?? "").split(",").map((metric) => metric.trim().split(";")[0]);
    // The task waits in the gateway: no server is chosen and nothing is sent to ComfyUI on the request path.
    expect(stages).toEqual(expect.arrayContaining(["parse", "check", "user", "store", "db", "total"]));
    expect(stages).not.toContain("upload");
    const { task } = await answer.json();
    expect(task).toMatchObject({ status: "queued", workflow: "invert", server: null });
    expect(task.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it.skipIf(dialect.skip)("style, early binding: the Server-Timing also names the stages that reach ComfyUI during the submit", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, SCHEDULING: "early" });
    const userId = await createUser(gateway.url, "style", "early-timing");
    const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "me.png" } });
    expect(answer.status).toBe(202);
    const stages = (answer.headers.get("server-timing") ?? "").split(",").map((metric) => metric.trim().split(";")[0]);
    expect(stages).toEqual(expect.arrayContaining(["pick", "upload", "prompt", "store", "db", "total"]));
  });

  it.skipIf(dialect.skip)("style, early binding: the prompt on ComfyUI's queue names its task in extra_data", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, SCHEDULING: "early" });
    const userId = await createUser(gateway.url, "style", "early-marker");
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "me.png" } })).json();
    const queue = await (await fetch(`${fake.url}/queue`)).json();
    expect(queue.queue_pending.map((item: unknown[]) => item[3])).toEqual([expect.objectContaining({ aipack_task: task.id })]);
  });

  it.skipIf(dialect.skip)("style, early binding: the input reaches ComfyUI's input folder named after its task", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, SCHEDULING: "early" });
    const userId = await createUser(gateway.url, "style", "early-input-name");
    const bytes = pngBytes(5, 3, 0x405060);
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes, type: "image/png", name: "me.png" } })).json();
    const input = await fetch(`${fake.url}/view?filename=aipack_${task.id}.png&type=input`);
    expect(input.status).toBe(200);
    expect(decodePng(new Uint8Array(await input.arrayBuffer()))).toMatchObject({ width: 5, height: 3 });
  });

  // The reconciler would adopt and end an unfollowed task too, later: here it never sweeps, so the
  // task can only end through the live watch its submit started.
  it.skipIf(dialect.skip)("style, early binding: a task ends succeeded from ComfyUI's messages, without waiting for a reconciler sweep", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, SCHEDULING: "early", RECONCILE_INTERVAL_MS: "3600000" });
    const userId = await createUser(gateway.url, "style", "early-live-end");
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "me.png" } })).json();
    const read = async () => (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json()).task;
    await expect.poll(async () => (await read()).status, { timeout: 10_000 }).toBe("succeeded");
    expect((await read()).outputUrls).toHaveLength(1);
  });

  it.skipIf(dialect.skip)("style: three uploads queue up, ahead falls 2 → 1 → 0, then running, then succeeded", async () => {
    const { fake, gateway, submit } = await styleGateway(true);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await (await submit()).json()).task.id);
    expect(await walkTheQueue(fake, gateway.url, "style", ids)).toEqual(expectedWalk(ids[2]!));
  });

  it.skipIf(dialect.skip)("style: a finished upload has a downloadable PNG of the input's size and a URL of its input", async () => {
    const { gateway, submit } = await styleGateway(false);
    const { task: queued } = await (await submit()).json();
    expect((await pollQueue(gateway.url, "style", queued.id, isFinalStatus)).at(-1)?.status).toBe("succeeded");
    const { task } = await (await apiFetch(`${gateway.url}/api/tasks/${queued.id}?frontend=style`)).json();
    expect(task.outputUrls).toHaveLength(1);
    expect(task.inputUrl).toMatch(new RegExp(`^${gateway.url}/files/style/inputs/`));
    const download = await fetch(task.outputUrls[0]);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("image/png");
    expect(decodePng(new Uint8Array(await download.arrayBuffer()))).toMatchObject({ width: 6, height: 4 });
  });

  it.skipIf(dialect.skip)("style: the user's task list names each of their tasks", async () => {
    const { gateway, userId, submit } = await styleGateway(true);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await (await submit()).json()).task.id);
    const list = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(list.items.map((p: { id: string }) => p.id).sort()).toEqual([...ids].sort());
  });

  it.skipIf(dialect.skip)("logo: three tasks queue up, ahead falls 2 → 1 → 0, then running, then succeeded", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { EmptyImage: 250 }, paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "5" });
    const userId = await createUser(gateway.url, "logo", "e2e-logo-queue");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      // Each a different size: ComfyUI runs an identical prompt again from its cache, in no time,
      // and the poll would have no running phase to see.
      const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "swatch", params: JSON.stringify({ width: 8 + i, height: 8 }) });
      expect(answer.status).toBe(202);
      ids.push((await answer.json()).task.id);
    }
    expect(await walkTheQueue(fake, gateway.url, "logo", ids)).toEqual(expectedWalk(ids[2]!));
    for (const id of ids) {
      const { task } = await (await apiFetch(`${gateway.url}/api/tasks/${id}?frontend=logo`)).json();
      expect(task.status).toBe("succeeded");
      expect((await fetch(task.outputUrls[0])).status).toBe(200);
    }
  });

  it.skipIf(dialect.skip)("logo: a model-free template without an image", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "logo", "e2e-logo");
    const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "swatch", params: JSON.stringify({ width: 16, height: 12 }) });
    expect(answer.status).toBe(202);
    const { task } = await answer.json();
    const answers = await pollQueue(gateway.url, "logo", task.id, isFinalStatus);
    expect(answers.at(-1)?.status).toBe("succeeded");
    const { task: done } = await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=logo`)).json();
    const image = decodePng(new Uint8Array(await (await fetch(done.outputUrls[0])).arrayBuffer()));
    expect(image).toMatchObject({ width: 16, height: 12 });
    expect(done.inputUrl).toBeNull();
    // The task lives in the logo database only.
    expect((await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).status).toBe(404);
  });
});
