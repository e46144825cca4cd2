import { describe, expect, it } from "vitest";
import { fakeForTest, socketForTest, tracedWorkflows } from "../../test/fake-comfy/helpers.ts";
import { isDone } from "../../test/fake-comfy/ws-recorder.ts";
import { ComfyClient } from "./comfy-client.ts";

const workflows = tracedWorkflows();

describe("ComfyClient: what a prompt carries, and stopping one", () => {
  it("extra data reaches the server: the queue names the task a prompt belongs to", async () => {
    const fake = await fakeForTest({ paused: true });
    const client = new ComfyClient({ baseUrl: fake.url });
    const queued = await client.queuePrompt({ prompt: workflows.empty as never, clientId: "c", extraData: { aipack_task: "task-1" } });
    expect((await client.getQueue()).pending).toEqual([{ number: queued.number, promptId: queued.promptId, clientId: "c", taskId: "task-1" }]);
  });

  it("on a current server, interrupting a prompt that already finished leaves the running one alone", async () => {
    const fake = await fakeForTest({ version: "current", nodeDelayMs: { ImageBlur: 200 } });
    const ws = await socketForTest(fake);
    const client = new ComfyClient({ baseUrl: fake.url });
    const finished = await client.queuePrompt({ prompt: workflows.empty as never, clientId: ws.clientId ?? "" });
    await ws.waitFor(isDone(finished.promptId));
    const running = await client.queuePrompt({ prompt: workflows.interrupt as never, clientId: ws.clientId ?? "" });
    await ws.waitFor((f) => f.kind === "json" && f.type === "executing" && f.data.node === "2" && f.data.prompt_id === running.promptId);
    await client.interrupt(finished.promptId);
    await ws.waitFor(isDone(running.promptId));
    expect(fake.counters.interrupts).toBe(1);
    expect((await client.getHistory(running.promptId))?.status?.status_str).toBe("success");
  });

  it("a prompt sent without an id while the server was upgraded does not undo what a refresh learned", async () => {
    // 0.3.x: no id is sent. The POST is held while the server turns current and a refresh learns it.
    const fake = await fakeForTest({ holdRoutes: ["/prompt"] });
    const client = new ComfyClient({ baseUrl: fake.url });
    const queued = client.queuePrompt({ prompt: workflows.empty as never, clientId: "c" });
    await expect.poll(() => fake.counters.held).toBe(1);
    fake.setOptions({ version: "current" });
    expect((await client.refreshCapabilities()).clientPromptId).toBe(true);
    fake.setOptions({ holdRoutes: [] });
    await queued;
    expect(client.capabilities?.clientPromptId).toBe(true);
  });

  it("a base URL given with trailing slashes is kept without them", async () => {
    const fake = await fakeForTest();
    const client = new ComfyClient({ baseUrl: `${fake.url}//` });
    expect(client.baseUrl).toBe(fake.url);
    expect((await client.systemStats()).devices.length).toBeGreaterThan(0);
  });
});
