import { apiFetch } from "../support/credentials.ts";
import { describe, expect, it } from "vitest";
import type { FakeComfy, FakeComfyVersion } from "../fake-comfy/index.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pollQueue, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { isFinalMessage, openProgressClient, type ProgressClient } from "../support/ws-client.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const wsUrl = (httpUrl: string, query: string) => `${httpUrl.replace(/^http/, "ws")}/api/ws?${query}`;
const params = (seed: number) => JSON.stringify({ prompt: "a small fox logo", steps: 4, width: 256, height: 256, seed });

/** A gateway on one fake of `version`, paused so a client is subscribed before anything runs. */
async function setup(version: FakeComfyVersion, options: Parameters<typeof fakeForTest>[0] = {}) {
  const fake = await fakeForTest({ version, paused: true, ...options });
  const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}` });
  const userId = await createUser(gateway.url, "logo", `versions-${version}`);
  const submit = async (seed: number) => {
    const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params: params(seed) });
    expect(answer.status).toBe(202);
    return (await answer.json()).task.id as string;
  };
  const watch = (taskId: string, extra = "") => openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}${extra}`));
  return { fake, gateway, submit, watch };
}

async function percents(client: ProgressClient): Promise<unknown[]> {
  await client.waitFor(isFinalMessage);
  return client.messages.filter((m) => m.type === "progress").map((m) => m.percent);
}

/** The task id a preview frame names: byte 1 its length, then the id. */
const previewTask = (frame: Buffer) => frame.subarray(2, 2 + (frame[1] ?? 0)).toString("utf8");

describe("progress percent, by ComfyUI version (txt2img: 7 nodes, a 4-step sampler at node 5)", () => {
  it("0.3.14: percent moves only with the sampler's own progress", async () => {
    const { fake, submit, watch } = await setup("0.3.14");
    const client = await watch(await submit(1));
    fake.setOptions({ paused: false });
    expect(await percents(client)).toEqual([60.7, 64.3, 67.9, 71.4]);
  });

  it("current: progress_state moves percent with every node, from the first to 100", async () => {
    const { fake, submit, watch } = await setup("current");
    const client = await watch(await submit(1));
    fake.setOptions({ paused: false });
    expect(await percents(client)).toEqual([14.3, 28.6, 42.9, 57.1, 60.7, 64.3, 67.9, 71.4, 85.7, 100]);
  });

  it.each(["0.3.14", "current"] as const)("%s: cached nodes count neither as work to run nor as done", async (version) => {
    const { fake, submit, watch } = await setup(version);
    const first = await watch(await submit(1));
    fake.setOptions({ paused: false });
    await first.waitFor(isFinalMessage);
    fake.setOptions({ paused: true });
    // Another seed: only the sampler, the decoder and the save run again (3 of 7).
    const second = await watch(await submit(2));
    fake.setOptions({ paused: false });
    const expected = version === "current" ? [8.3, 16.7, 25, 33.3, 66.7, 100] : [8.3, 16.7, 25, 33.3];
    expect(await percents(second)).toEqual(expected);
  });
});

describe("previews, by ComfyUI version", () => {
  it.each(["0.3.14", "current"] as const)("%s: each task's socket gets its own previews, one per sampler step", async (version) => {
    const { fake, submit, watch } = await setup(version, { previews: true });
    const tasks = [await submit(1), await submit(2)];
    const clients = await Promise.all(tasks.map((id) => watch(id, "&previews=1")));
    fake.setOptions({ paused: false });
    for (const [i, client] of clients.entries()) {
      await client.waitFor(isFinalMessage);
      expect(client.binary.map(previewTask)).toEqual(Array(4).fill(tasks[i]));
    }
    // Current releases were asked for previews that name their prompt; 0.3.14 was asked nothing.
    expect(fake.counters.featureFlags).toBe(version === "current" ? 1 : 0);
  });
});

/** Waits until the fake has nothing queued or running. */
async function drained(fake: FakeComfy): Promise<void> {
  await expect.poll(async () => ((await (await fetch(`${fake.url}/prompt`)).json()) as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining, { timeout: 10_000 }).toBe(0);
}

describe("reconciliation after a restart, by ComfyUI version", () => {
  it.each(["0.3.14", "current"] as const)("%s: a job that ended while no gateway ran is recorded succeeded", async (version) => {
    const fake = await fakeForTest({ version, paused: true });
    const env = { COMFY_SERVERS: fake.url };
    const first = await startTestServer(sqlite, env);
    const userId = await createUser(first.url, "logo", "reconcile");
    const { task } = await (await submitTask(first.url, { frontend: "logo", userId, workflow: "swatch", params: "{}" })).json();
    await first.close();
    fake.setOptions({ paused: false });
    await drained(fake);
    const before = { history: fake.counters.historyReads, jobs: fake.counters.jobReads, queue: fake.counters.queueReads };
    const second = await startTestServer(sqlite, env, first.data);
    const answers = await pollQueue(second.url, "logo", task.id, isFinalStatus, 20);
    expect(answers.at(-1)).toMatchObject({ status: "succeeded" });
    const { task: done } = await (await apiFetch(`${second.url}/api/tasks/${task.id}?frontend=logo`)).json();
    expect(done.outputUrls).toHaveLength(1);
    // Current releases: one /api/jobs/{id}; 0.3.x: one /history read.
    const reads = { history: fake.counters.historyReads - before.history, jobs: fake.counters.jobReads - before.jobs };
    expect(reads).toEqual(version === "current" ? { history: 0, jobs: 1 } : { history: 1, jobs: 0 });
  });

  // Early binding: the task belongs to its server (late scheduling puts a forgotten, unstarted task back in the queue).
  it("current: a task the server no longer knows is failed after two /api/jobs/{id} answers of 404", async () => {
    const fake = await fakeForTest({ version: "current", paused: true });
    const env = { COMFY_SERVERS: fake.url, SCHEDULING: "early" };
    const first = await startTestServer(sqlite, env);
    const userId = await createUser(first.url, "logo", "reconcile-lost");
    const { task } = await (await submitTask(first.url, { frontend: "logo", userId, workflow: "swatch", params: "{}" })).json();
    await first.close();
    await fetch(`${fake.url}/queue`, { method: "POST", body: JSON.stringify({ clear: true }) });
    const second = await startTestServer(sqlite, env, first.data);
    const answers = await pollQueue(second.url, "logo", task.id, isFinalStatus, 20);
    expect(answers.at(-1)?.status).toBe("failed");
    const { task: failed } = await (await apiFetch(`${second.url}/api/tasks/${task.id}?frontend=logo`)).json();
    expect(failed.error).toMatch(/no longer knows this task/);
    expect(fake.counters.jobReads).toBe(2);
    expect(fake.counters.historyReads).toBe(0);
  });
});
