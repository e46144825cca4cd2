import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask, type SubmitFields } from "../support/task-client.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";
import { settableClock } from "../support/test-gateway.ts";
import { startTestServer } from "../support/test-server.ts";

// Admission beyond test/abuse/submit-limits.test.ts: the GPU queue's ceiling under both
// schedulings and with several (or no) healthy servers, per-frontend caps, and what each refusal
// tells the client. Each submit comes from a user of its own unless the test is about one user.

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const invert = (userId: string): SubmitFields => ({ frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "a.png" } });

/** A ComfyUI address where nothing answers (a cut proxy): a server the pool sees as down. */
async function deadServerUrl(): Promise<string> {
  const proxy = await startTcpProxy({ host: "127.0.0.1", port: 9 });
  proxy.cut();
  return `http://127.0.0.1:${proxy.port}`;
}

/** Submits one task for each of `count` fresh users, one after the other; the statuses in order. */
async function submitAsNewUsers(url: string, count: number, name: string): Promise<Response[]> {
  const answers: Response[] = [];
  for (let i = 0; i < count; i++) answers.push(await submitTask(url, invert(await createUser(url, "style", `${name}-${i}`))));
  return answers;
}

describe("SCHEDULING=early: the server is picked at submit, so its queue is the ceiling", () => {
  it("counts prompts just sent, before any reading of the server's queue", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { SCHEDULING: "early", COMFY_SERVERS: `gpu=${fake.url}`, POOL_MAX_PENDING_PER_SERVER: "2" });
    const answers = await submitAsNewUsers(gateway.url, 3, "sent");
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 503]);
    expect((await answers[2]!.json()).error).toMatchObject({ code: "queue_full", message: "Every GPU server's queue is full; try again shortly" });
  });

  it("counts the server's queue as read from it", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { SCHEDULING: "early", COMFY_SERVERS: `gpu=${fake.url}`, POOL_MAX_PENDING_PER_SERVER: "2" });
    const accepted = await submitAsNewUsers(gateway.url, 2, "read");
    expect(accepted.map((answer) => answer.status)).toEqual([202, 202]);
    await gateway.deps.pool.refresh();
    const full = await submitTask(gateway.url, invert(await createUser(gateway.url, "style", "read-late")));
    expect(full.status).toBe(503);
    expect((await full.json()).error.code).toBe("queue_full");
  });

  it("takes a submit while one of two servers has room", async () => {
    const [a, b] = await Promise.all([fakeForTest({ paused: true }), fakeForTest({ paused: true })]);
    const gateway = await startTestServer(sqlite, { SCHEDULING: "early", COMFY_SERVERS: `a=${a.url},b=${b.url}`, POOL_MAX_PENDING_PER_SERVER: "1" });
    const answers = await submitAsNewUsers(gateway.url, 3, "two");
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 503]);
  });

  it("a server that is down adds no room", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { SCHEDULING: "early", COMFY_SERVERS: `a=${fake.url},b=${await deadServerUrl()}`, POOL_MAX_PENDING_PER_SERVER: "1" });
    const answers = await submitAsNewUsers(gateway.url, 2, "early-down");
    expect(answers.map((answer) => answer.status)).toEqual([202, 503]);
  });

  it("with no healthy server answers 503 comfy_unavailable, not queue_full", async () => {
    const gateway = await startTestServer(sqlite, { SCHEDULING: "early", COMFY_SERVERS: `gpu=${await deadServerUrl()}`, POOL_MAX_PENDING_PER_SERVER: "1" });
    const [answer] = await submitAsNewUsers(gateway.url, 1, "none");
    expect(answer!.status).toBe(503);
    expect((await answer!.json()).error.code).toBe("comfy_unavailable");
  });
});

describe("SCHEDULING=late: the gateway's own queue holds POOL_MAX_PENDING_PER_SERVER per healthy server", () => {
  it("two healthy servers: twice the tasks", async () => {
    const [a, b] = await Promise.all([fakeForTest({ paused: true }), fakeForTest({ paused: true })]);
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `a=${a.url},b=${b.url}`, POOL_MAX_PENDING_PER_SERVER: "1" });
    const answers = await submitAsNewUsers(gateway.url, 3, "late-two");
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 503]);
    expect((await answers[2]!.json()).error).toMatchObject({ code: "queue_full", message: "The queue of tasks waiting for a GPU is full; try again shortly" });
  });

  it("a server that is down adds no room", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `a=${fake.url},b=${await deadServerUrl()}`, POOL_MAX_PENDING_PER_SERVER: "1" });
    const answers = await submitAsNewUsers(gateway.url, 2, "late-down");
    expect(answers.map((answer) => answer.status)).toEqual([202, 503]);
  });

  it("no healthy server: still one server's worth, waiting for a GPU", async () => {
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${await deadServerUrl()}`, POOL_MAX_PENDING_PER_SERVER: "2" });
    const answers = await submitAsNewUsers(gateway.url, 3, "late-none");
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 503]);
    expect((await answers[2]!.json()).error.code).toBe("queue_full");
  });
});

describe("what a refused submit tells the client", () => {
  it("a submit's RateLimit headers are those of the submits budget", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}`, RATE_SUBMITS_PER_MINUTE: "20" });
    const [answer] = await submitAsNewUsers(gateway.url, 1, "headers");
    expect(answer!.status).toBe(202);
    expect(answer!.headers.get("ratelimit-policy")).toBe("20;w=60");
    expect(answer!.headers.get("ratelimit")).toMatch(/^limit=20, remaining=19, reset=\d+$/);
  });

  it("too_many_tasks names the cap in its message and details", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}`, MAX_UNFINISHED_TASKS: "1" });
    const userId = await createUser(gateway.url, "style", "capped");
    expect((await submitTask(gateway.url, invert(userId))).status).toBe(202);
    const refused = await submitTask(gateway.url, invert(userId));
    expect(refused.status).toBe(429);
    expect((await refused.json()).error).toMatchObject({
      code: "too_many_tasks",
      message: "At most 1 unfinished tasks per user; wait for one to finish",
      details: { limit: 1 },
    });
  });

  it("counts each user's submits in flight apart: parallel submits of users at no task each all pass", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}`, MAX_UNFINISHED_TASKS: "1" });
    const users = await Promise.all(["p", "q", "r", "s"].map((name) => createUser(gateway.url, "style", `parallel-${name}`)));
    const answers = await Promise.all(users.map((userId) => submitTask(gateway.url, invert(userId))));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
  });

  it("MAX_UNFINISHED_TASKS_<FRONTEND> sets that frontend's cap over MAX_UNFINISHED_TASKS", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}`, MAX_UNFINISHED_TASKS: "1", MAX_UNFINISHED_TASKS_STYLE: "2" });
    const userId = await createUser(gateway.url, "style", "roomier");
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await submitTask(gateway.url, invert(userId)));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 429]);
    expect((await answers[2]!.json()).error.details).toEqual({ limit: 2 });
  });

  it("quota_exceeded's Retry-After counts the seconds to the quota's reset at UTC midnight", async () => {
    const fake = await fakeForTest({ paused: true });
    const clock = settableClock("2026-05-01T23:59:30.000Z");
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}`, LOGO_DAILY_QUOTA: "1" }, undefined, true, clock);
    const userId = await createUser(gateway.url, "logo", "one-a-day");
    const swatch: SubmitFields = { frontend: "logo", userId, workflow: "swatch", params: JSON.stringify({ width: 64, height: 64 }) };
    expect((await submitTask(gateway.url, swatch)).status).toBe(202);
    const refused = await submitTask(gateway.url, swatch);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect((await refused.json()).error.details).toEqual({ resetsAt: "2026-05-02T00:00:00.000Z" });
  });
});
