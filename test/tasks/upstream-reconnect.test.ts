import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { startFakeComfy } from "../fake-comfy/index.ts";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask, untilDispatched } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { isFinalMessage, openProgressClient } from "../support/ws-client.ts";
import { onTestFinished } from "vitest";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

/** A gateway over a paused fake, one queued task, and a progress client following it (no polls). */
async function queuedTaskWithFollower(name: string, env: Record<string, string> = {}) {
  const fake = await fakeForTest({ paused: true });
  const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url, ...env });
  const userId = await createUser(gateway.url, "style", name);
  const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
  expect(answer.status).toBe(202);
  const { task } = (await answer.json()) as { task: { id: string } };
  const client = await openProgressClient(`${gateway.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${task.id}`);
  await client.waitFor((m) => m.type === "subscribed");
  await untilDispatched(gateway.url, "style", task.id);
  return { fake, gateway, client, taskId: task.id };
}

// Nobody polls in these tests: only the reconnect itself can tell the gateway how the job ended.
describe("a ComfyUI server whose event stream comes back", () => {
  it("a job that finished while the stream was away is recorded succeeded from /history", async () => {
    const { fake, client, taskId } = await queuedTaskWithFollower("reconnect-history");
    await fake.kill();
    fake.setOptions({ paused: false });
    // The run ends with nobody connected: its messages are lost.
    await expect.poll(() => fake.counters.promptsFinished).toBe(1);
    await fake.start();
    const final = await client.waitFor(isFinalMessage);
    expect(final).toMatchObject({ type: "succeeded", taskId, outputUrls: [expect.stringContaining("/files/style/outputs/")] });
  });

  // Early binding: the task belongs to its server, which forgot it.
  it("a job its restarted ComfyUI no longer knows is failed, saying so", async () => {
    const { fake, client, taskId } = await queuedTaskWithFollower("reconnect-forgotten", { SCHEDULING: "early" });
    await fake.kill();
    // A restart: the same port, an empty queue and history.
    const restarted = await startFakeComfy({ port: fake.port });
    onTestFinished(() => restarted.kill());
    const final = await client.waitFor(isFinalMessage);
    expect(final).toMatchObject({ type: "failed", taskId, message: "The ComfyUI server no longer knows this task (it restarted or the task was removed)" });
  });

  it("a task its restarted ComfyUI forgot before it started goes back to the gateway's queue and runs", async () => {
    const { fake, gateway, client, taskId } = await queuedTaskWithFollower("reconnect-requeued");
    await fake.kill();
    const restarted = await startFakeComfy({ port: fake.port });
    onTestFinished(() => restarted.kill());
    const final = await client.waitFor(isFinalMessage);
    expect(final).toMatchObject({ type: "succeeded", taskId });
    expect(restarted.counters.promptsFinished).toBe(1);
    expect(gateway.logger.entries).toContainEqual({
      level: "info",
      message: "task back in the queue: its server no longer knew it and it had not started",
      fields: { taskId, server: expect.any(String) },
    });
  });

  it("a forgotten task whose row cannot be put back in the queue is failed, not dropped", async () => {
    const { fake, gateway, client, taskId } = await queuedTaskWithFollower("reconnect-release-fails");
    // A real write failure, through a connection of the test's own: the row refuses to lose its server.
    const target = gateway.config.databases.style!;
    if (target.kind !== "sqlite") throw new Error("sqlite only");
    const db = createClient({ url: `file:${target.file}` });
    await db.execute("CREATE TRIGGER refuse_release BEFORE UPDATE OF server_id ON photos WHEN NEW.server_id IS NULL BEGIN SELECT RAISE(ABORT, 'no release'); END");
    db.close();
    await fake.kill();
    const restarted = await startFakeComfy({ port: fake.port });
    onTestFinished(() => restarted.kill());
    const final = await client.waitFor(isFinalMessage);
    expect(final).toMatchObject({ type: "failed", taskId, message: "The ComfyUI server no longer knows this task (it restarted or the task was removed)" });
  });

  // Late scheduling puts back only a task that had not started: one that had cannot be put back.
  it("a task that had started when its ComfyUI restarted is failed, saying the server no longer knows it", async () => {
    const fake = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "reconnect-started");
    const { task } = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()) as { task: { id: string } };
    const client = await openProgressClient(`${gateway.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${task.id}`);
    await client.waitFor((m) => m.type === "subscribed");
    // Held in its invert node: running on ComfyUI, as the row says.
    await expect.poll(async () => (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json()).task.status).toBe("running");
    await fake.kill();
    const restarted = await startFakeComfy({ port: fake.port });
    onTestFinished(() => restarted.kill());
    const final = await client.waitFor(isFinalMessage);
    expect(final).toMatchObject({ type: "failed", taskId: task.id, message: "The ComfyUI server no longer knows this task (it restarted or the task was removed)" });
    expect(restarted.counters.promptPosts).toBe(0);
  });
});

// Early binding: were the waiting task taken for a lost one, it would be failed.
describe("a ComfyUI server whose event stream comes back while a task still waits on it", () => {
  it.each(["0.3.14", "current"] as const)("%s: the task is left to run, and succeeds", async (version) => {
    const fake = await fakeForTest({ version, paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url, SCHEDULING: "early" });
    const userId = await createUser(gateway.url, "style", `reconnect-waiting-${version}`);
    const { task } = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()) as { task: { id: string } };
    const client = await openProgressClient(`${gateway.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${task.id}`);
    await client.waitFor((m) => m.type === "subscribed");
    const reads = () => (version === "current" ? fake.counters.jobReads : fake.counters.historyReads);
    const before = reads();
    fake.dropConnections();
    // The reconnect's reconcile asked about the task, which is still in the server's queue.
    await expect.poll(reads, { timeout: 20_000 }).toBeGreaterThan(before);
    fake.setOptions({ paused: false });
    const final = await client.waitFor(isFinalMessage);
    expect(final).toMatchObject({ type: "succeeded", taskId: task.id });
    expect(fake.counters.promptPosts).toBe(1);
    // Its follower heard each node start, by id, once.
    expect(client.messages.filter((m) => m.type === "executing" && m.node === "2")).toEqual([{ type: "executing", taskId: task.id, node: "2" }]);
    // Nothing of this server went back to the gateway's queue: there is nothing to take back from it.
    expect(gateway.logger.entries.filter((e) => e.message === "could not take back prompts from a returning server")).toEqual([]);
  });
});
