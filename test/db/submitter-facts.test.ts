import { describe, expect, it } from "vitest";
import type { BaseDBController } from "../../src/controllers/base-db-controller.ts";
import type { TaskStatus } from "../../src/schema/index.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway } from "../support/test-gateway.ts";

/** The style database of a fresh gateway (nothing started: no dispatcher moves the rows). */
async function styleDb(dialect: (typeof dialectCases)[number]): Promise<BaseDBController> {
  const { deps } = await createTestGateway(dialect);
  const db = deps.controllers.get("style")!;
  await db.ready();
  return db;
}

async function newUser(db: BaseDBController): Promise<string> {
  return (await db.upsertUser({ externalId: `facts-${Math.random().toString(36).slice(2)}` })).id;
}

async function addTask(db: BaseDBController, userId: string, status: TaskStatus, queueRound: number, serverId: string | null = null): Promise<void> {
  await db.createTask({ userId, workflow: "invert", params: {}, status, outputUrls: [], queueRound, serverId });
}

// The submit reads a user's standing in one query (BaseDBController.submitterFacts); these pin
// its parts one by one, on each dialect, so the single statement keeps the rules of fair-order.ts.
describe.each(dialectCases)("a submitter's facts, on $name", (dialect) => {
  it.skipIf(dialect.skip)("are undefined for a user the frontend does not have", async () => {
    const db = await styleDb(dialect);
    expect(await db.submitterFacts("no-such-user")).toBeUndefined();
  });

  it.skipIf(dialect.skip)("count only the user's queued and running tasks", async () => {
    const db = await styleDb(dialect);
    const [user, other] = [await newUser(db), await newUser(db)];
    await addTask(db, user, "queued", 0);
    await addTask(db, user, "running", 0, "a");
    await addTask(db, user, "succeeded", 0, "a");
    await addTask(db, other, "queued", 0);
    expect((await db.submitterFacts(user))?.unfinished).toBe(2);
  });

  it.skipIf(dialect.skip)("put a newcomer in the oldest round still waiting, not behind the backlog", async () => {
    const db = await styleDb(dialect);
    const [heavy, light] = [await newUser(db), await newUser(db)];
    for (const round of [2, 3, 4]) await addTask(db, heavy, "queued", round);
    expect((await db.submitterFacts(light))?.queueRound).toBe(2);
  });

  it.skipIf(dialect.skip)("put a user's next task one round after its latest unfinished one", async () => {
    const db = await styleDb(dialect);
    const [user, other] = [await newUser(db), await newUser(db)];
    await addTask(db, other, "queued", 1);
    await addTask(db, user, "queued", 4);
    await addTask(db, user, "running", 5, "a");
    await addTask(db, user, "failed", 9, "a");
    expect((await db.submitterFacts(user))?.queueRound).toBe(6);
  });

  it.skipIf(dialect.skip)("with nothing waiting, take the latest round on the servers (prepared or running)", async () => {
    const db = await styleDb(dialect);
    const [user, other] = [await newUser(db), await newUser(db)];
    await addTask(db, other, "queued", 7, "a");
    await addTask(db, other, "running", 3, "b");
    expect((await db.submitterFacts(user))?.queueRound).toBe(7);
  });

  it.skipIf(dialect.skip)("start at round 0 on an empty queue", async () => {
    const db = await styleDb(dialect);
    const user = await newUser(db);
    await addTask(db, user, "cancelled", 12);
    expect(await db.submitterFacts(user)).toEqual({ unfinished: 0, queued: 0, queueRound: 0 });
  });

  it.skipIf(dialect.skip)("count the frontend's queued tasks, every user's, waiting or prepared on a server", async () => {
    const db = await styleDb(dialect);
    const [user, other] = [await newUser(db), await newUser(db)];
    await addTask(db, user, "queued", 0);
    await addTask(db, other, "queued", 0, "a");
    await addTask(db, other, "running", 0, "b");
    expect((await db.submitterFacts(user))?.queued).toBe(2);
  });
});
