import { readdirSync } from "node:fs";
import { apiFetch } from "../support/credentials.ts";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { TaskEvent } from "../../src/realtime/task-events.ts";
import { isFinal } from "../../src/realtime/task-events.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch {
    return [];
  }
}

describe.each(dialectCases)("recording a task's end on $name", (dialect) => {
  it.skipIf(dialect.skip)("polls and a cancel while results are being stored neither store them twice nor override the success", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "1" });
    const userId = await createUser(gateway.url, "style", "slow-store");
    // Storing results is held up: ComfyUI is done with the task while its row still says running.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let outputPuts = 0;
    const storage = gateway.deps.storage;
    const put = storage.put.bind(storage);
    vi.spyOn(storage, "put").mockImplementation(async (input) => {
      if (input.prefix?.endsWith("/outputs")) {
        outputPuts += 1;
        await held;
      }
      return put(input);
    });
    const finals: TaskEvent[] = [];
    const hub = gateway.deps.hub;
    const publish = hub.publish.bind(hub);
    vi.spyOn(hub, "publish").mockImplementation((key, event) => {
      if (isFinal(event)) finals.push(event);
      publish(key, event);
    });

    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    for (let i = 0; i < 500 && outputPuts === 0; i++) await sleep(10);
    const polls = await Promise.all(Array.from({ length: 10 }, () => apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${task.id}`).then((r) => r.json())));
    expect(polls.every((p) => p.status === "running" && p.running === true && p.ahead === 0)).toBe(true);
    const cancelling = apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`, { method: "DELETE" });
    await sleep(100);
    release();
    expect((await (await cancelling).json()).task.status).toBe("succeeded");

    expect(outputPuts).toBe(1);
    expect(fake.counters.views).toBe(1);
    expect(finals).toEqual([{ type: "succeeded", taskId: task.id, outputUrls: [expect.any(String)] }]);
    const { task: done } = await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json();
    expect(done.outputUrls).toEqual(finals[0]!.type === "succeeded" ? finals[0]!.outputUrls : []);
  });

  it.skipIf(dialect.skip)("an end whose row write fails is retried by the next poll instead of leaving the row running", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageInvert: 300 } });
    // A long window: polls cannot stumble on the task's end through a fresh /queue answer.
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "10000" });
    const userId = await createUser(gateway.url, "style", "write-fails");
    const db = gateway.deps.controllers.get("style")!;
    const transition = db.transitionTask.bind(db);
    let successWrites = 0;
    vi.spyOn(db, "transitionTask").mockImplementation(async (id, from, patch) => {
      if (patch.status === "succeeded" && successWrites++ === 0) throw new Error("connection lost");
      return transition(id, from, patch);
    });
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    const answers = await pollQueue(gateway.url, "style", task.id, isFinalStatus, 20, 200);
    expect(answers.at(-1)?.status).toBe("succeeded");
    expect(successWrites).toBe(2);
    expect(gateway.deps.tasks.following).toBe(0);
  });

  it.skipIf(dialect.skip)("a row whose insert landed but whose answer was lost is failed, its prompt withdrawn and its input removed", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "insert-lost");
    const db = gateway.deps.controllers.get("style")!;
    const create = db.createTask.bind(db);
    vi.spyOn(db, "createTask").mockImplementation(async (input) => {
      await create(input);
      throw new Error("connection lost after the insert");
    });
    const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect((await answer.json()).error).toMatchObject({ code: expect.any(String), requestId: expect.any(String) });

    const list = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ status: "failed", error: expect.stringContaining("could not be recorded") });
    const queue = await (await fetch(`${fake.url}/queue`)).json();
    expect([...queue.queue_pending, ...queue.queue_running]).toEqual([]);
    expect(filesUnder(path.join(gateway.config.dataDir, "files", "style", "inputs"))).toEqual([]);
    expect(gateway.deps.tasks.following).toBe(0);
  });
});
