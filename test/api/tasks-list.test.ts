import { describe, expect, it } from "vitest";
import type { BaseDBController } from "../../src/controllers/base-db-controller.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, jsonRequest } from "../support/test-gateway.ts";

async function seedTasks(db: BaseDBController, userId: string, count: number, status: "succeeded" | "queued" = "succeeded") {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const task = await db.createTask({ userId, workflow: `wf${i % 2}`, params: { i }, status, outputUrls: [`https://cdn/${i}.png`] });
    ids.push(task.id);
  }
  return ids;
}

describe.each(dialectCases)("listing tasks on $name", (dialect) => {
  it.skipIf(dialect.skip)("lists a user's tasks newest first across pages", async () => {
    let tick = Date.parse("2026-01-01T00:00:00Z");
    // A clock that repeats each instant twice, so equal timestamps exercise the id tie-break.
    const { app, deps } = await createTestGateway(dialect);
    Object.assign(deps.clock, { now: () => new Date((tick += 500) - ((tick / 500) % 2) * 500) });
    const user = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "lister" }))).json()).user;
    const db = deps.controllers.get("style")!;
    await seedTasks(db, user.id, 7);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/tasks?frontend=style&userId=${user.id}&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const answer = await app.request(query);
      expect(answer.status).toBe(200);
      const page = await answer.json();
      seen.push(...page.items.map((item: { id: string; createdAt: string }) => `${item.createdAt}|${item.id}`));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    const sorted = [...seen].sort().reverse();
    expect(seen).toEqual(sorted);
  });

  it.skipIf(dialect.skip)("shows one task and its fields", async () => {
    const { app, deps } = await createTestGateway(dialect);
    const user = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "p" }))).json()).user;
    const [id] = await seedTasks(deps.controllers.get("logo")!, user.id, 1);
    const answer = await app.request(`/api/tasks/${id}?frontend=logo`);
    expect(answer.status).toBe(200);
    expect((await answer.json()).task).toMatchObject({ id, userId: user.id, workflow: "wf0", params: { i: 0 }, status: "succeeded", outputUrls: ["https://cdn/0.png"] });
    expect((await app.request(`/api/tasks/${id}?frontend=style`)).status).toBe(404);
  });

  it.skipIf(dialect.skip)("refuses bad list queries", async () => {
    const { app } = await createTestGateway(dialect);
    const user = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "q" }))).json()).user;
    const cases: Array<[string, number, string]> = [
      [`/api/tasks?frontend=style&userId=${user.id}&limit=0`, 400, "validation_failed"],
      [`/api/tasks?frontend=style&userId=${user.id}&limit=101`, 400, "validation_failed"],
      [`/api/tasks?frontend=style&userId=${user.id}&limit=ten`, 400, "validation_failed"],
      [`/api/tasks?frontend=style&userId=${user.id}&cursor=bogus`, 400, "validation_failed"],
      [`/api/tasks?frontend=style`, 400, "validation_failed"],
      [`/api/tasks?frontend=style&userId=unknown`, 404, "not_found"],
      [`/api/tasks?userId=${user.id}`, 400, "unknown_frontend"],
      [`/api/tasks/unknown?frontend=style`, 404, "not_found"],
    ];
    for (const [path, status, code] of cases) {
      const answer = await app.request(path);
      expect(answer.status, path).toBe(status);
      expect((await answer.json()).error.code, path).toBe(code);
    }
  });

  it.skipIf(dialect.skip)("the pre-1.0 /api/photos paths are gone: 404 not_found", async () => {
    const { app } = await createTestGateway(dialect);
    const answer = await app.request("/api/photos?frontend=style&userId=u");
    expect(answer.status).toBe(404);
    expect((await answer.json()).error.code).toBe("not_found");
  });

  it.skipIf(dialect.skip)("each frontend's controller has its own behaviour", async () => {
    const { app, deps } = await createTestGateway(dialect);
    const styleUser = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "s" }))).json()).user;
    await seedTasks(deps.controllers.get("style")!, styleUser.id, 3);
    const style = await (await app.request(`/api/users/${styleUser.id}?frontend=style`)).json();
    expect(style.stats).toEqual({ favoriteStyles: [{ workflow: "wf0", count: 2 }, { workflow: "wf1", count: 1 }] });

    const logoUser = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "l" }))).json()).user;
    const logoDb = deps.controllers.get("logo")!;
    const [first] = await seedTasks(logoDb, logoUser.id, 3, "queued");
    await logoDb.updateTask(first!, { status: "cancelled" });
    const logo = await (await app.request(`/api/users/${logoUser.id}?frontend=logo`)).json();
    expect(logo.stats).toEqual({ logosToday: 2 });
  });
});
