import { readdirSync } from "node:fs";
import { apiFetch } from "../support/credentials.ts";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases, mysqlUrl } from "../support/dialects.ts";
import { startTcpProxy, targetOf, throughProxy } from "../support/tcp-proxy.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask, untilDispatched } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { isFinalMessage, openProgressClient } from "../support/ws-client.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch {
    return [];
  }
}

/** A gateway over a fake whose result downloads (/view) are held, with one task ended on ComfyUI and held there. */
async function taskWhoseResultsAreHeld(dialect: (typeof dialectCases)[number]) {
  const fake = await fakeForTest({ holdRoutes: ["/view"] });
  const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "1" });
  const userId = await createUser(gateway.url, "style", "slow-store");
  const { task } = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()) as { task: { id: string } };
  const client = await openProgressClient(`${gateway.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${task.id}`);
  // ComfyUI is done; the gateway is fetching the result, so its row still says running.
  await expect.poll(() => fake.counters.held).toBe(1);
  return { fake, gateway, client, taskId: task.id, release: () => fake.setOptions({ holdRoutes: [] }) };
}

describe.each(dialectCases)("a job whose end is being recorded, on $name", (dialect) => {
  it.skipIf(dialect.skip)("polls meanwhile answer running, with nothing ahead", async () => {
    const { gateway, taskId } = await taskWhoseResultsAreHeld(dialect);
    const polls = await Promise.all(Array.from({ length: 10 }, async () => (await apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${taskId}`)).json()));
    expect(polls).toEqual(Array.from({ length: 10 }, () => ({ taskId, status: "running", running: true, ahead: 0 })));
  });

  it.skipIf(dialect.skip)("a cancel meanwhile answers the success and does not override it", async () => {
    const { fake, gateway, taskId, release } = await taskWhoseResultsAreHeld(dialect);
    const readsBefore = fake.counters.queueReads;
    const cancelling = apiFetch(`${gateway.url}/api/tasks/${taskId}?frontend=style`, { method: "DELETE" });
    // The cancel looked where the job stands (a fresh /queue read) and now waits for the end.
    await expect.poll(() => fake.counters.queueReads).toBeGreaterThan(readsBefore);
    release();
    expect((await (await cancelling).json()).task.status).toBe("succeeded");
  });

  it.skipIf(dialect.skip)("its results are fetched and stored once, and announced once", async () => {
    const { fake, gateway, client, taskId, release } = await taskWhoseResultsAreHeld(dialect);
    await Promise.all(Array.from({ length: 5 }, () => apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${taskId}`)));
    const cancelling = apiFetch(`${gateway.url}/api/tasks/${taskId}?frontend=style`, { method: "DELETE" });
    release();
    await cancelling;
    const final = await client.waitFor(isFinalMessage);
    expect(final).toEqual({ type: "succeeded", taskId, outputUrls: [expect.stringContaining("/files/style/outputs/")] });
    const { task } = await (await apiFetch(`${gateway.url}/api/tasks/${taskId}?frontend=style`)).json();
    expect(task.outputUrls).toEqual(final.outputUrls);
    expect(client.messages.filter(isFinalMessage)).toHaveLength(1);
    expect(fake.counters.views).toBe(1);
    expect(filesUnder(path.join(gateway.config.dataDir, "files", "style", "outputs"))).toHaveLength(1);
  });
});

// MySQL only: the faults are a lost connection and a lost answer, which an embedded SQLite file
// (no connection, no wire) cannot have.
describe.skipIf(mysqlUrl === null)("a MySQL database that fails while a job ends", () => {
  const mysql = dialectCases.find((d) => d.name === "mysql")!;

  async function gatewayBehindProxy(fakeOptions: Parameters<typeof fakeForTest>[0], env: Record<string, string> = {}) {
    const fake = await fakeForTest(fakeOptions);
    const proxy = await startTcpProxy(targetOf(mysqlUrl!));
    // A long window: polls cannot stumble on the job's end through a fresh /queue answer.
    const gateway = await startTestServer(mysql, { COMFY_SERVERS: fake.url, QUEUE_READ_WINDOW_MS: "10000", DATABASE_URL: throughProxy(mysqlUrl!, proxy), ...env });
    return { fake, proxy, gateway };
  }

  it("an end whose row write fails is retried by the next poll instead of leaving the row running", async () => {
    const { fake, proxy, gateway } = await gatewayBehindProxy({ paused: true });
    const userId = await createUser(gateway.url, "style", "write-fails");
    const { task } = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()) as { task: { id: string } };
    await untilDispatched(gateway.url, "style", task.id);
    proxy.cut();
    fake.setOptions({ paused: false });
    await expect.poll(() => gateway.logger.entries.some((e) => e.message.startsWith("could not record a task's end"))).toBe(true);
    proxy.restore();
    const answers = await pollQueue(gateway.url, "style", task.id, isFinalStatus, 20, 200);
    expect(answers.at(-1)).toEqual({ taskId: task.id, status: "succeeded", running: false, ahead: 0 });
    expect(gateway.deps.tasks.following).toBe(0);
  });

  it("a row whose insert landed but whose answer was lost answers 503 database_unavailable", async () => {
    const { proxy, gateway } = await gatewayBehindProxy({ paused: true });
    const userId = await createUser(gateway.url, "style", "insert-lost");
    void proxy.loseAnswerTo("insert into `photos`");
    const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(answer.status).toBe(503);
    expect((await answer.json()).error).toMatchObject({ code: "database_unavailable", requestId: expect.any(String) });
  });

  it("that row is failed, its prompt withdrawn and its stored input removed", async () => {
    const { fake, proxy, gateway } = await gatewayBehindProxy({ paused: true });
    const userId = await createUser(gateway.url, "style", "insert-lost");
    const lost = proxy.loseAnswerTo("insert into `photos`");
    await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await lost;
    const photos = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(photos.items).toHaveLength(1);
    // Late scheduling: nothing had gone to ComfyUI yet; the row the client was told failed is failed.
    expect(photos.items[0]).toMatchObject({ status: "failed", error: "The task could not be recorded" });
    const queue = await (await fetch(`${fake.url}/queue`)).json();
    expect([...queue.queue_pending, ...queue.queue_running]).toEqual([]);
    expect(filesUnder(path.join(gateway.config.dataDir, "files", "style", "inputs"))).toEqual([]);
    expect(gateway.deps.tasks.following).toBe(0);
  });
  it("early binding: that row is failed saying its prompt was taken back off ComfyUI, and the prompt is gone", async () => {
    const { fake, proxy, gateway } = await gatewayBehindProxy({ paused: true }, { SCHEDULING: "early" });
    const userId = await createUser(gateway.url, "style", "insert-lost-early");
    const lost = proxy.loseAnswerTo("insert into `photos`");
    await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await lost;
    const photos = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(photos.items).toHaveLength(1);
    expect(photos.items[0]).toMatchObject({ status: "failed", error: "The task could not be recorded; it was taken back off ComfyUI" });
    const queue = await (await fetch(`${fake.url}/queue`)).json();
    expect([...queue.queue_pending, ...queue.queue_running]).toEqual([]);
  });
});
