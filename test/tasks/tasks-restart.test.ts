import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import type { FakeComfy } from "../fake-comfy/index.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

/** Waits until the fake has run the one prompt to its end (its history entry is written by then). */
async function drained(fake: FakeComfy): Promise<void> {
  await expect.poll(() => fake.counters.promptsFinished, { timeout: 20_000 }).toBe(1);
}

describe.each(dialectCases)("a task that ends while no gateway runs, on $name", (dialect) => {
  it.skipIf(dialect.skip)("succeeded on ComfyUI: the next gateway records it from one /history read, with downloadable URLs", async () => {
    const fake = await fakeForTest({ paused: true });
    const env = { COMFY_SERVERS: fake.url };
    const first = await startTestServer(dialect, env);
    const userId = await createUser(first.url, "style", "restart-ok");
    const { task } = await (await submitTask(first.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await first.close();
    fake.setOptions({ paused: false });
    await drained(fake);

    const historyBefore = fake.counters.historyReads;
    const second = await startTestServer(dialect, env, first.data);
    const answers = await pollQueue(second.url, "style", task.id, isFinalStatus, 20);
    expect(answers.at(-1)).toMatchObject({ status: "succeeded", running: false, ahead: 0 });
    const { task: done } = await (await apiFetch(`${second.url}/api/tasks/${task.id}?frontend=style`)).json();
    expect(done.outputUrls).toHaveLength(1);
    const download = await fetch(done.outputUrls[0]);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("image/png");
    expect(fake.counters.historyReads - historyBefore).toBe(1);
    expect(fake.counters.views).toBe(1);
  });

  it.skipIf(dialect.skip)("failed on ComfyUI: the next gateway records it failed with ComfyUI's message", async () => {
    const fake = await fakeForTest({ paused: true });
    const env = { COMFY_SERVERS: fake.url };
    const first = await startTestServer(dialect, env);
    const userId = await createUser(first.url, "style", "restart-error");
    const { task } = await (await submitTask(first.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await first.close();
    fake.setOptions({ failOnClass: "ImageInvert", paused: false });
    await drained(fake);

    const historyBefore = fake.counters.historyReads;
    const second = await startTestServer(dialect, env, first.data);
    const answers = await pollQueue(second.url, "style", task.id, isFinalStatus, 20);
    expect(answers.at(-1)?.status).toBe("failed");
    const { task: failed } = await (await apiFetch(`${second.url}/api/tasks/${task.id}?frontend=style`)).json();
    expect(failed.error).toBe("ImageInvert (node 2) failed: Injected failure in ImageInvert");
    expect(failed.outputUrls).toEqual([]);
    expect(fake.counters.historyReads - historyBefore).toBe(1);
  });
});
