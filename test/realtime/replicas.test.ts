import { apiFetch } from "../support/credentials.ts";
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pollQueue, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { expectMonotonicProgressAndSameResult, txt2imgParams } from "../support/watch-flow.ts";
import { isFinalMessage, openProgressClient } from "../support/ws-client.ts";

const redisUrl = inject("redisUrl");
const wsUrl = (httpUrl: string, query: string) => `${httpUrl.replace(/^http/, "ws")}/api/ws?${query}`;

describe.each(dialectCases)("two replicas sharing $name and Redis", (dialect) => {
  it.skipIf(dialect.skip || redisUrl === null)("clients on either replica follow a task submitted through the other", async () => {
    // Paused until both replicas' clients have seen the task queued: a slow machine cannot skip that state.
    const fake = await fakeForTest({ msPerStep: 20, paused: true });
    const shared = { COMFY_SERVERS: `gpu=${fake.url}`, REDIS_URL: redisUrl!, REDIS_CHANNEL: `aipack-test:${randomUUID()}` };
    const a = await startTestServer(dialect, { ...shared, INSTANCE_ID: "replica-aaaa" });
    const b = await startTestServer(dialect, { ...shared, INSTANCE_ID: "replica-bbbb" }, { env: a.data.env, cleanup: () => undefined });
    const userId = await createUser(a.url, "logo", "replicated");
    const blocker = (await (await submitTask(a.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(15) })).json()).task.id;
    const taskId = (await (await submitTask(a.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(25) })).json()).task.id;

    const onA = await openProgressClient(wsUrl(a.url, `frontend=logo&taskId=${taskId}`));
    const onB = await Promise.all([1, 2, 3].map(() => openProgressClient(wsUrl(b.url, `frontend=logo&taskId=${taskId}`))));
    // A poll answered by B tells A's clients the queue position too.
    const polls = await pollQueue(b.url, "logo", taskId, (answer) => answer.status === "queued", 15);
    expect(polls.at(-1)?.ahead).toBe(1);
    await onA.waitFor((m) => m.type === "queued");
    fake.setOptions({ paused: false });

    const midRun = await (async () => {
      await onB[0]!.waitFor((m) => m.type === "progress" && (m.value as number) >= 5);
      return openProgressClient(wsUrl(b.url, `frontend=logo&taskId=${taskId}`));
    })();
    const finals = await expectMonotonicProgressAndSameResult([onA, ...onB]);
    const first = await midRun.waitFor((m) => m.type === "progress");
    expect(first.value as number).toBeGreaterThanOrEqual(5);
    expect(await midRun.waitFor(isFinalMessage)).toEqual(finals[0]);
    expect(b.deps.tasks.following).toBe(0);
    // The job queued ahead of it ran first, and ended too.
    expect((await (await apiFetch(`${a.url}/api/tasks/${blocker}?frontend=logo`)).json()).task.status).toBe("succeeded");
  });
});
