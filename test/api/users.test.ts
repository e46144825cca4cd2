import { createClient } from "@libsql/client";
import mysql from "mysql2/promise";
import { describe, expect, it } from "vitest";
import type { DatabaseTarget } from "../../src/config/config.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, jsonRequest } from "../support/test-gateway.ts";

/** Renames a frontend's users table through a connection of its own, as an operator's mistake would. */
async function renameUsersTable(target: DatabaseTarget): Promise<void> {
  if (target.kind === "mysql") {
    const connection = await mysql.createConnection({ uri: target.url, database: target.database });
    await connection.query("RENAME TABLE users TO users_gone");
    await connection.end();
    return;
  }
  const client = createClient({ url: `file:${target.file}` });
  await client.execute("ALTER TABLE users RENAME TO users_gone");
  client.close();
}

describe.each(dialectCases)("users on $name", (dialect) => {
  it.skipIf(dialect.skip)("creates a user, then updates it by externalId", async () => {
    const { app } = await createTestGateway(dialect);
    const created = await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "openid-1", nickname: "Ann" }));
    expect(created.status).toBe(200);
    const { user } = await created.json();
    expect(user).toMatchObject({ externalId: "openid-1", nickname: "Ann", avatarUrl: null });
    expect(user.id).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const updated = await app.request(
      "/api/users",
      jsonRequest("POST", { frontend: "style", externalId: "openid-1", avatarUrl: "https://img.example/a.png" }),
    );
    const again = (await updated.json()).user;
    expect(again.id).toBe(user.id);
    expect(again).toMatchObject({ nickname: "Ann", avatarUrl: "https://img.example/a.png" });

    const fetched = await app.request(`/api/users/${user.id}?frontend=style`);
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toMatchObject({ user: { id: user.id, nickname: "Ann" }, stats: { favoriteStyles: [] } });
  });

  it.skipIf(dialect.skip)("concurrent upserts of one externalId end in one user", async () => {
    const { app } = await createTestGateway(dialect);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "race" }))),
    );
    const ids = new Set(await Promise.all(answers.map(async (answer) => (await answer.json()).user.id)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(ids.size).toBe(1);
  });

  it.skipIf(dialect.skip)("treats external ids as case-sensitive (openids are)", async () => {
    const { app } = await createTestGateway(dialect);
    const lower = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "oAbC" }))).json()).user;
    const upper = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "OABC" }))).json()).user;
    expect(lower.id).not.toBe(upper.id);
  });

  it.skipIf(dialect.skip)("answers an unexpected failure with a bare 500 and logs it with the request id", async () => {
    const { app, config, logger } = await createTestGateway(dialect);
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "before" }))).status).toBe(200);
    // A real fault the gateway does not expect: its users table is gone from under it.
    await renameUsersTable(config.databases.style!);
    const answer = await app.request("/api/users/some-id?frontend=style", { headers: { "x-request-id": "req-123" } });
    expect(answer.status).toBe(500);
    const body = await answer.json();
    expect(body).toEqual({ error: { code: "internal", message: "Internal server error", requestId: "req-123" } });
    expect(logger.entries).toContainEqual(
      expect.objectContaining({ level: "error", fields: expect.objectContaining({ requestId: "req-123", error: expect.stringContaining("users") }) }),
    );
  });

  it.skipIf(dialect.skip)("keeps /healthz answering while the database fails", async () => {
    const { app, config } = await createTestGateway(dialect);
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "before" }))).status).toBe(200);
    await renameUsersTable(config.databases.style!);
    expect((await app.request("/api/users/some-id?frontend=style")).status).toBe(500);
    expect((await app.request("/healthz")).status).toBe(200);
  });

  it.skipIf(dialect.skip)("keeps each frontend's users in its own database", async () => {
    const { app } = await createTestGateway(dialect);
    const created = await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "only-style" }));
    const { user } = await created.json();
    const throughLogo = await app.request(`/api/users/${user.id}?frontend=logo`);
    expect(throughLogo.status).toBe(404);
    expect((await throughLogo.json()).error.code).toBe("not_found");
    const throughStyle = await app.request(`/api/users/${user.id}?frontend=style`);
    expect(throughStyle.status).toBe(200);
  });

  it.skipIf(dialect.skip)("refuses bad input with the error envelope", async () => {
    const { app } = await createTestGateway(dialect);
    const cases: Array<[RequestInit & { path?: string }, number, string]> = [
      [jsonRequest("POST", { externalId: "x" }), 400, "unknown_frontend"],
      [jsonRequest("POST", { frontend: "poster", externalId: "x" }), 400, "unknown_frontend"],
      [jsonRequest("POST", { frontend: 7, externalId: "x" }), 400, "unknown_frontend"],
      [jsonRequest("POST", { frontend: "style", externalId: 42 }), 400, "validation_failed"],
      [jsonRequest("POST", { frontend: "style", externalId: "" }), 400, "validation_failed"],
      [jsonRequest("POST", { frontend: "style", externalId: "x", avatarUrl: "not a url" }), 400, "validation_failed"],
      [jsonRequest("POST", { frontend: "style", externalId: "x".repeat(129) }), 400, "validation_failed"],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: '{"frontend":"style",' }, 400, "bad_request"],
    ];
    for (const [init, status, code] of cases) {
      const answer = await app.request("/api/users", init);
      expect(answer.status, String(init.body)).toBe(status);
      const body = await answer.json();
      expect(body.error.code, String(init.body)).toBe(code);
      expect(typeof body.error.message).toBe("string");
    }
    const unknown = await app.request("/api/users/nope?frontend=style");
    expect(unknown.status).toBe(404);
    const noFrontend = await app.request("/api/users/nope");
    expect((await noFrontend.json()).error).toMatchObject({ code: "unknown_frontend", message: expect.stringContaining("style, logo") });
  });
});
