import { apiFetch } from "../support/credentials.ts";
import { describe, expect, it } from "vitest";
import { fakeForTest, queue, tracedWorkflows } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask, type QueueAnswer } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

describe("the shared /queue answer and submits", () => {
  it("a submit to a server refreshes the queue position its other pollers see", async () => {
    const fake = await fakeForTest({ paused: true });
    // A window far longer than the test: only the submit can make the pollers' answer fresh.
    // Early binding: the submit itself queues on ComfyUI (late scheduling's dispatch invalidates the same way).
    const gateway = await startTestServer(sqlite, { SCHEDULING: "early", COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "600000" });
    const outsider = await queue(fake, tracedWorkflows().invert, "someone-else");
    const userId = await createUser(gateway.url, "style", "queue-refresh");
    const submit = async () => ((await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()) as { task: { id: string } }).task.id;
    const position = async (taskId: string) => (await (await apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${taskId}`)).json()) as QueueAnswer;
    const first = await submit();
    expect(await position(first)).toMatchObject({ status: "queued", ahead: 1 });
    // Its owner takes the outsider's prompt off ComfyUI's queue: the shared answer no longer holds.
    await fetch(`${fake.url}/queue`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ delete: [outsider] }) });
    await submit();
    expect(await position(first)).toMatchObject({ status: "queued", ahead: 0 });
  });
});
