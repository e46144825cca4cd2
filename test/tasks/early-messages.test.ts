import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { fakeForTest, socketForTest } from "../fake-comfy/helpers.ts";
import type { Recorded } from "../fake-comfy/ws-recorder.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

const queueRemaining = (f: Recorded) =>
  f.kind === "json" && f.type === "status" ? (f.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining : null;

// An end-to-end task test (it belongs with test/tasks), kept beside the knob it needs until moved.
describe("a 0.3.x server whose /prompt answer comes after the prompt's messages", () => {
  it("the task still ends, from the messages held for its not yet known prompt id", async () => {
    const fake = await fakeForTest({ version: "0.3.14", promptAnswerDelayMs: 400 });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "logo", "early-messages");
    // A bystander sees the queue go 1 → 0 (status is broadcast) before the answer arrives.
    const bystander = await socketForTest(fake);
    // Late scheduling answers the submit at once; the prompt goes out from the gateway's queue.
    const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "swatch", params: JSON.stringify({ width: 8, height: 8 }) });
    expect(answer.status).toBe(202);
    const { task } = await answer.json();
    await bystander.waitFor((f) => queueRemaining(f) === 1);
    await bystander.waitFor((f) => queueRemaining(f) === 0 && bystander.frames.some((g) => queueRemaining(g) === 1));
    // The run ended on ComfyUI before the gateway had its prompt id (its /prompt answer is late).
    expect((await gateway.deps.controllers.get("logo")!.getTask(task.id))?.promptId).toBeNull();
    const read = async () => (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=logo`)).json()).task;
    await expect.poll(async () => (await read()).status, { timeout: 3_000 }).toBe("succeeded");
    expect((await read()).outputUrls).toHaveLength(1);
    // It ended from the held messages, not from a /history read.
    expect(fake.counters.historyReads).toBe(0);
  });
});

describe("a server too old to send execution_success, whose /prompt answer comes after the prompt's messages", () => {
  it("the task still ends, from the held end of its run", async () => {
    const fake = await fakeForTest({ version: "0.3.14", promptAnswerDelayMs: 400, omitExecutionSuccess: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "logo", "early-messages-old");
    const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "swatch", params: JSON.stringify({ width: 8, height: 8 }) });
    const { task } = await answer.json();
    // The row alone is read: nothing here nudges the gateway into asking ComfyUI.
    const read = async () => (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=logo`)).json()).task;
    await expect.poll(async () => (await read()).status, { timeout: 10_000 }).toBe("succeeded");
  });
});
