import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

describe("a job interrupted on its ComfyUI while no gateway ran", () => {
  it.each(["0.3.14", "current"] as const)("%s: the next gateway records it failed, interrupted on the server", async (version) => {
    // ImageInvert's own work outlasts the interrupt below, which then lands at SaveImage.
    const fake = await fakeForTest({ version, paused: true, nodeDelayMs: { ImageInvert: 200 } });
    const env = { COMFY_SERVERS: fake.url };
    const first = await startTestServer(sqlite, env);
    const userId = await createUser(first.url, "style", "interrupted-away");
    const { task } = await (await submitTask(first.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await expect.poll(() => fake.counters.promptPosts).toBe(1);
    await first.close();
    fake.setOptions({ paused: false });
    // Someone else (ComfyUI's own page) stops the run.
    const running = async () => ((await (await fetch(`${fake.url}/queue`)).json()) as { queue_running: unknown[] }).queue_running.length;
    await expect.poll(running).toBe(1);
    await fetch(`${fake.url}/interrupt`, { method: "POST" });
    await expect.poll(() => fake.counters.promptsFinished).toBe(1);

    const second = await startTestServer(sqlite, env, first.data);
    const answers = await pollQueue(second.url, "style", task.id, isFinalStatus, 20);
    expect(answers.at(-1)?.status).toBe("failed");
    const { task: failed } = await (await apiFetch(`${second.url}/api/tasks/${task.id}?frontend=style`)).json();
    expect(failed).toMatchObject({ status: "failed", error: "Interrupted on the ComfyUI server", outputUrls: [] });
  });
});

describe("a job interrupted on its ComfyUI while the gateway follows it", () => {
  it("ends failed, naming the node where ComfyUI stopped it", async () => {
    // ImageInvert's own work outlasts a poll under load; the interrupt lands at the node after.
    const fake = await fakeForTest({ nodeDelayMs: { ImageInvert: 1_000 } });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "interrupted-live");
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await pollQueue(gateway.url, "style", task.id, (a) => a.running);
    // Someone else (ComfyUI's own page) stops the run: at SaveImage, or at ImageInvert if the poll was quick.
    await fetch(`${fake.url}/interrupt`, { method: "POST" });
    const answers = await pollQueue(gateway.url, "style", task.id, isFinalStatus, 20);
    expect(answers.at(-1)?.status).toBe("failed");
    const { task: failed } = await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json();
    expect(failed).toMatchObject({ status: "failed", error: expect.stringMatching(/^Interrupted on the ComfyUI server at node [23]$/), outputUrls: [] });
  });
});
