import { apiFetch } from "../support/credentials.ts";
import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases, mysqlUrl } from "../support/dialects.ts";
import { createUser, submitTask, untilDispatched } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { expectCleanEnd, image, settled, submitMany, userTasks } from "./fault-support.ts";
import { drained, mysqlBehindProxy } from "./mysql-proxy.ts";

const mysql = dialectCases.find((d) => d.name === "mysql")!;
// The background reconciler runs often here; nobody polls the gateway in these tests.
const fast = { RECONCILE_INTERVAL_MS: "300" };

// A database that stops is a MySQL fault (SQLite is a file in the process; its fault is a full disk).
describe("database faults on mysql", () => {
  it.skipIf(mysqlUrl === null)("down when a task ends: recorded succeeded soon after the database is back, with nobody polling, its output fetched once", async () => {
    const fake = await fakeForTest({ paused: true });
    const { proxy, data } = await mysqlBehindProxy();
    const gw = await startTestServer(mysql, { COMFY_SERVERS: `gpu1=${fake.url}`, ...fast }, data);
    const { ids } = await submitMany(gw.url, 2);
    // Both on ComfyUI before the cut: the fault under test is at their end, not at their dispatch.
    for (const id of ids) await untilDispatched(gw.url, "style", id);
    proxy.cut();
    fake.setOptions({ paused: false });
    await drained(fake);
    await expect.poll(() => gw.logger.entries.filter((entry) => entry.message.startsWith("could not record")).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    proxy.restore();

    const tasks = await settled(gw.url, "style", ids, 15_000);
    expect(tasks.map((task) => task.status)).toEqual(["succeeded", "succeeded"]);
    await expectCleanEnd(gw.url, tasks, gw.config.dataDir);
    expect(fake.counters.views).toBe(2);
  });

  it.skipIf(mysqlUrl === null)("down at start: tasks that ended meanwhile are recorded once it is back, with nobody polling", async () => {
    const fake = await fakeForTest({ paused: true });
    const { proxy, data } = await mysqlBehindProxy();
    const env = { COMFY_SERVERS: `gpu1=${fake.url}`, INSTANCE_ID: "fault-db-at-start", ...fast };
    const first = await startTestServer(mysql, env, { env: data.env, cleanup: () => undefined });
    const { ids } = await submitMany(first.url, 2);
    for (const id of ids) await untilDispatched(first.url, "style", id);
    await first.close();
    proxy.cut();
    fake.setOptions({ paused: false });
    await drained(fake);

    const second = await startTestServer(mysql, env, data);
    expect((await fetch(`${second.url}/readyz`)).status).toBe(503);
    proxy.restore();
    const tasks = await settled(second.url, "style", ids, 15_000);
    expect(tasks.map((task) => task.status)).toEqual(["succeeded", "succeeded"]);
    await expectCleanEnd(second.url, tasks, second.config.dataDir);
    expect(fake.counters.views).toBe(2);
  });

  it.skipIf(mysqlUrl === null)("down during a submit: 503 database_unavailable, the prompt taken back off ComfyUI, no task left behind", async () => {
    const fake = await fakeForTest({ promptAnswerDelayMs: 1_000, nodeDelayMs: { ImageInvert: 5_000 } });
    const { proxy, data } = await mysqlBehindProxy();
    // Early binding: the prompt is sent during the submit (late scheduling's lost insert: tasks-finishing.test.ts).
    const gw = await startTestServer(mysql, { SCHEDULING: "early", COMFY_SERVERS: `gpu1=${fake.url}`, ...fast }, data);
    const userId = await createUser(gw.url, "style", "submit-cut");
    const answer = submitTask(gw.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await expect.poll(() => fake.counters.promptPosts, { timeout: 15_000 }).toBe(1);
    proxy.cut();

    const res = await answer;
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("database_unavailable");
    await drained(fake); // interrupted: it never runs to its end
    proxy.restore();
    await expect.poll(async () => (await apiFetch(`${gw.url}/api/tasks?frontend=style&userId=${userId}`)).status, { timeout: 15_000 }).toBe(200);
    const left = await userTasks(gw.url, userId);
    expect(left.filter((task) => !["failed", "cancelled", "succeeded"].includes(task.status))).toEqual([]);
    expect(fake.counters.views).toBe(0);
  });
});
