import { existsSync, readdirSync } from "node:fs";
import { createClient } from "@libsql/client";
import path from "node:path";
import { apiFetch } from "../support/credentials.ts";
import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { pngDeclaring, realPng } from "../support/image-fixtures.ts";
import { createUser, pngBytes, submitTask, type SubmitFields } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
}
const invert = (userId: string, bytes: Uint8Array = pngBytes()): SubmitFields => ({
  frontend: "style",
  userId,
  workflow: "invert",
  image: { bytes, type: "image/png", name: "a.png" },
});

async function setup(env: Record<string, string>) {
  const fake = await fakeForTest({ paused: true });
  const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}`, ...env });
  return { fake, gateway };
}

describe("fair use of the GPUs (measured: 300 submits from one client all 202; the next user saw ahead: 299)", () => {
  it("refuses a user's submit past MAX_UNFINISHED_TASKS with 429 too_many_tasks, and takes another user's", async () => {
    const { gateway } = await setup({ MAX_UNFINISHED_TASKS: "2" });
    const greedy = await createUser(gateway.url, "style", "greedy");
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await submitTask(gateway.url, invert(greedy)));
    expect(statuses.map((a) => a.status)).toEqual([202, 202, 429]);
    expect(statuses[2]!.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await statuses[2]!.json()).error.code).toBe("too_many_tasks");
    const other = await createUser(gateway.url, "style", "other");
    expect((await submitTask(gateway.url, invert(other))).status).toBe(202);
  });

  it("keeps no input image of a submit refused at the cap (stored while admission decided, then removed)", async () => {
    const { gateway } = await setup({ MAX_UNFINISHED_TASKS: "1" });
    const user = await createUser(gateway.url, "style", "capped");
    expect((await submitTask(gateway.url, invert(user))).status).toBe(202);
    expect((await submitTask(gateway.url, invert(user))).status).toBe(429);
    expect(filesUnder(path.join(gateway.config.dataDir, "files"))).toHaveLength(1);
  });

  it("a burst of parallel submits cannot all slip past the cap", async () => {
    const { gateway } = await setup({ MAX_UNFINISHED_TASKS: "2" });
    const greedy = await createUser(gateway.url, "style", "burst");
    const answers = await Promise.all(Array.from({ length: 8 }, () => submitTask(gateway.url, invert(greedy))));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(2);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(6);
  });

  it("answers 503 queue_full with Retry-After when every server holds POOL_MAX_PENDING_PER_SERVER, and still answers polls", async () => {
    const { gateway } = await setup({ POOL_MAX_PENDING_PER_SERVER: "3" });
    const users = await Promise.all(["a", "b", "c", "d"].map((name) => createUser(gateway.url, "style", `pool-${name}`)));
    const accepted = [];
    for (const userId of users.slice(0, 3)) accepted.push(await submitTask(gateway.url, invert(userId)));
    expect(accepted.map((a) => a.status)).toEqual([202, 202, 202]);
    const full = await submitTask(gateway.url, invert(users[3]!));
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await full.json()).error.code).toBe("queue_full");
    const taskId = (await accepted[0]!.json()).task.id as string;
    expect((await apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=${taskId}`)).status).toBe(200);
  });

  it("counts every frontend's queued tasks toward POOL_MAX_PENDING_PER_SERVER", async () => {
    const { gateway } = await setup({ POOL_MAX_PENDING_PER_SERVER: "3" });
    const logoUser = await createUser(gateway.url, "logo", "pool-logo");
    expect((await submitTask(gateway.url, { frontend: "logo", userId: logoUser, workflow: "swatch", params: "{}" })).status).toBe(202);
    const users = await Promise.all(["e", "f", "g"].map((name) => createUser(gateway.url, "style", `pool-${name}`)));
    expect((await submitTask(gateway.url, invert(users[0]!))).status).toBe(202);
    expect((await submitTask(gateway.url, invert(users[1]!))).status).toBe(202);
    // Two of style's and one of logo's fill the one server: the queue is the gateway's, not a frontend's.
    const full = await submitTask(gateway.url, invert(users[2]!));
    expect(full.status).toBe(503);
    expect((await full.json()).error.code).toBe("queue_full");
  });

  it("a frontend whose database is away counts none toward POOL_MAX_PENDING_PER_SERVER; the others still fill it", async () => {
    const { gateway } = await setup({ POOL_MAX_PENDING_PER_SERVER: "2" });
    // logo's tasks table gone from under the gateway (a connection of the test's own): it cannot be counted.
    const logo = gateway.config.databases.logo!;
    if (logo.kind !== "sqlite") throw new Error("sqlite only");
    const db = createClient({ url: `file:${logo.file}` });
    await db.execute("ALTER TABLE photos RENAME TO photos_gone");
    db.close();
    const users = await Promise.all(["h", "i", "j"].map((name) => createUser(gateway.url, "style", `pool-${name}`)));
    expect((await submitTask(gateway.url, invert(users[0]!))).status).toBe(202);
    expect((await submitTask(gateway.url, invert(users[1]!))).status).toBe(202);
    const full = await submitTask(gateway.url, invert(users[2]!));
    expect(full.status).toBe(503);
    expect((await full.json()).error.code).toBe("queue_full");
  });

  it("enforces the logo daily quota at submit with 429 quota_exceeded and when it resets (measured: counted, never enforced)", async () => {
    const { gateway } = await setup({ LOGO_DAILY_QUOTA: "2" });
    const userId = await createUser(gateway.url, "logo", "logo-fan");
    const swatch = (id: string): SubmitFields => ({ frontend: "logo", userId: id, workflow: "swatch", params: JSON.stringify({ width: 64, height: 64 }) });
    expect((await submitTask(gateway.url, swatch(userId))).status).toBe(202);
    expect((await submitTask(gateway.url, swatch(userId))).status).toBe(202);
    const third = await submitTask(gateway.url, swatch(userId));
    expect(third.status).toBe(429);
    const body = await third.json();
    expect(body.error).toMatchObject({ code: "quota_exceeded", details: { resetsAt: expect.stringMatching(/T00:00:00\.000Z$/) } });
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    const other = await createUser(gateway.url, "logo", "logo-other");
    expect((await submitTask(gateway.url, swatch(other))).status).toBe(202);
  });
});

describe("images checked for what they decode to (measured: a 420 KB PNG of 12000×12000 reached ComfyUI)", () => {
  it.each([
    ["a PNG declaring 12000×12000", () => pngDeclaring(12_000, 12_000), 413, "image_too_large"],
    ["a 74-byte PNG declaring 100000×100000", () => pngDeclaring(100_000, 100_000), 413, "image_too_large"],
    ["a PNG cut after 12 bytes", () => realPng().subarray(0, 12), 400, "invalid_image"],
  ] as const)("refuses %s before ComfyUI sees it, and serves another client", async (_, make, status, code) => {
    const { fake, gateway } = await setup({ MAX_IMAGE_PIXELS: "25000000" });
    const userId = await createUser(gateway.url, "style", "bomber");
    const before = fake.counters.requests;
    const answer = await submitTask(gateway.url, invert(userId, new Uint8Array(make())));
    expect(answer.status).toBe(status);
    expect((await answer.json()).error.code).toBe(code);
    expect(fake.counters.requests - before).toBe(0);
    const other = await createUser(gateway.url, "style", "honest");
    expect((await submitTask(gateway.url, invert(other))).status).toBe(202);
  });
});
