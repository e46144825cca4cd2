import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { createClient } from "@libsql/client";
import mysql from "mysql2/promise";
import type { DatabaseTarget } from "../../src/config/config.ts";
import { apiFetch } from "../support/credentials.ts";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask, untilDispatched } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { workflowsWithBroken } from "../support/workflow-fixtures.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

async function taskOf(url: string, frontend: string, id: string) {
  return (await (await apiFetch(`${url}/api/tasks/${id}?frontend=${frontend}`)).json()).task;
}

/** Makes a frontend's database refuse every new task row, through a connection of the test's own (a real write failure). */
async function refuseNewTasks(target: DatabaseTarget): Promise<void> {
  if (target.kind === "mysql") {
    const connection = await mysql.createConnection({ uri: target.url, database: target.database });
    await connection.query("CREATE TRIGGER refuse_tasks BEFORE INSERT ON photos FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no new tasks'");
    await connection.end();
    return;
  }
  const client = createClient({ url: `file:${target.file}` });
  await client.execute("CREATE TRIGGER refuse_tasks BEFORE INSERT ON photos BEGIN SELECT RAISE(ABORT, 'no new tasks'); END");
  client.close();
}

describe.each(dialectCases)("tasks that go wrong on $name", (dialect) => {
  it.skipIf(dialect.skip)("a task row the database refuses to write: 500, no task, and its stored input removed", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "row-refused");
    await refuseNewTasks(gateway.config.databases.style!);
    const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(answer.status).toBe(500);
    expect((await answer.json()).error.code).toBe("internal");
    const list = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(list.items).toEqual([]);
    // The input was stored before the row was tried: nothing of it is left behind.
    const inputs = path.join(gateway.config.dataDir, "files", "style", "inputs");
    expect(readdirSync(inputs, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())).toEqual([]);
    expect(fake.counters.promptPosts).toBe(0);
  });

  it.skipIf(dialect.skip)("ComfyUI's validation error comes back as 400 with its node messages, and no row", async () => {
    const fake = await fakeForTest();
    // Early binding: ComfyUI is asked during the submit (late scheduling: gateway-queue.test.ts).
    const gateway = await startTestServer(dialect, { SCHEDULING: "early", COMFY_SERVERS: fake.url, WORKFLOWS_DIR: workflowsWithBroken() });
    const userId = await createUser(gateway.url, "style", "validation");
    const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "broken" });
    expect(answer.status).toBe(400);
    const { error } = await answer.json();
    expect(error.code).toBe("comfy_validation_failed");
    expect(error.details.type).toBe("prompt_outputs_failed_validation");
    expect(error.details.nodeErrors).toEqual([
      expect.objectContaining({
        nodeId: "1",
        classType: "EmptyImage",
        errors: [expect.objectContaining({ type: "required_input_missing", inputName: "height" })],
      }),
    ]);
    const list = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(list.items).toEqual([]);
  });

  it.skipIf(dialect.skip)("file storage failing is 503 with nothing left on ComfyUI, then a failed task when results cannot be kept", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "storage-down");
    const filesDir = path.join(gateway.config.dataDir, "files");
    const breakStorage = () => {
      // A plain file where the folder should be: every write under it fails, even as root.
      rmSync(filesDir, { recursive: true, force: true });
      writeFileSync(filesDir, "not a folder");
    };
    const queued = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()).task;
    // On its server (its input read back from storage) before storage breaks.
    await untilDispatched(gateway.url, "style", queued.id);

    breakStorage();
    const refused = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(refused.status).toBe(503);
    expect((await refused.json()).error).toMatchObject({ code: "storage_unavailable" });
    const queue = await (await fetch(`${fake.url}/queue`)).json();
    expect([...queue.queue_running, ...queue.queue_pending]).toHaveLength(1);
    const list = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(list.items.map((p: { id: string }) => p.id)).toEqual([queued.id]);

    // The task queued before runs now, but its result has nowhere to go.
    fake.setOptions({ paused: false });
    const answers = await pollQueue(gateway.url, "style", queued.id, isFinalStatus);
    expect(answers.at(-1)?.status).toBe("failed");
    expect(await taskOf(gateway.url, "style", queued.id)).toMatchObject({ status: "failed", outputUrls: [], error: expect.stringContaining("could not be fetched from ComfyUI or stored") });
  });

  it.skipIf(dialect.skip)("a node error during the run ends the task failed with ComfyUI's message", async () => {
    const fake = await fakeForTest({ failOnClass: "ImageInvert" });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "node-error");
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    const answers = await pollQueue(gateway.url, "style", task.id, isFinalStatus);
    expect(answers.at(-1)?.status).toBe("failed");
    const failed = await taskOf(gateway.url, "style", task.id);
    expect(failed.error).toMatch(/^ImageInvert \(node 2\) failed: .+/);
    expect(failed.outputUrls).toEqual([]);
    expect(failed.finishedAt).toEqual(expect.any(String));
  });

  it.skipIf(dialect.skip)("a node error's message is kept without the padding ComfyUI leaves around it", async () => {
    const fake = await fakeForTest({ failOnClass: "ImageInvert", failureMessage: "Allocation on device \n" });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "node-error-padded");
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await pollQueue(gateway.url, "style", task.id, isFinalStatus);
    expect((await taskOf(gateway.url, "style", task.id)).error).toBe("ImageInvert (node 2) failed: Allocation on device");
  });

  it.skipIf(dialect.skip)("a server killed mid-run fails its task, and the pool marks it down", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageInvert: 3_000 } });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "300", POOL_FAILURES_BEFORE_DOWN: "1" });
    const userId = await createUser(gateway.url, "style", "killed");
    const { task } = await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await pollQueue(gateway.url, "style", task.id, (a) => a.running);
    await fake.kill();
    await expect.poll(async () => (await taskOf(gateway.url, "style", task.id)).status, { timeout: 10_000 }).toBe("failed");
    const failed = await taskOf(gateway.url, "style", task.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("gpu1 went away");
    const servers = await (await apiFetch(`${gateway.url}/api/servers?refresh=1`)).json();
    expect(servers.summary.available).toBe(0);
    expect(servers.servers[0]).toMatchObject({ id: "gpu1", state: "down", healthy: false });
    // With no server up a new task waits in the gateway, saying why.
    const waiting = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()).task;
    await expect.poll(async () => (await taskOf(gateway.url, "style", waiting.id)).waitReason).toBe("no ComfyUI server is up");
    expect((await taskOf(gateway.url, "style", waiting.id)).status).toBe("queued");
  });

  it.skipIf(dialect.skip)("a gateway restarted while a task runs still ends it succeeded with its URLs", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageInvert: 1_500 } });
    const env = { COMFY_SERVERS: fake.url };
    const first = await startTestServer(dialect, env);
    const userId = await createUser(first.url, "style", "restart");
    const { task } = await (await submitTask(first.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await pollQueue(first.url, "style", task.id, (a) => a.running);
    await first.close();

    const second = await startTestServer(dialect, env, first.data);
    const answers = await pollQueue(second.url, "style", task.id, isFinalStatus, 20);
    expect(answers.at(-1)?.status).toBe("succeeded");
    const done = await taskOf(second.url, "style", task.id);
    expect(done.outputUrls).toHaveLength(1);
    expect((await fetch(done.outputUrls[0])).status).toBe(200);
  });

  it.skipIf(dialect.skip)("a second replica on the same database answers polls but leaves the job to the replica that submitted it", async () => {
    // Paused until b is up: on a slow machine the job would otherwise end before b starts.
    const fake = await fakeForTest({ paused: true, nodeDelayMs: { ImageInvert: 800 } });
    const a = await startTestServer(dialect, { COMFY_SERVERS: fake.url, INSTANCE_ID: "replica-aaaa" });
    const userId = await createUser(a.url, "style", "replicas");
    const { task } = await (await submitTask(a.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    const b = await startTestServer(dialect, { COMFY_SERVERS: fake.url, INSTANCE_ID: "replica-bbbb" }, { env: a.data.env, cleanup: () => undefined });
    // b has finished picking up its own unfinished jobs (startTestServer waits for that): none.
    expect(a.deps.tasks.following).toBe(1);
    expect(b.deps.tasks.following).toBe(0);
    fake.setOptions({ paused: false });
    const fromB = await pollQueue(b.url, "style", task.id, isFinalStatus, 20);
    expect(fromB.some((answer) => answer.running)).toBe(true);
    expect(fromB.at(-1)?.status).toBe("succeeded");
    const done = await taskOf(b.url, "style", task.id);
    expect(done.outputUrls[0]).toMatch(new RegExp(`^${a.url}/files/`));
  });
});
