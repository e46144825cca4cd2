import { describe, expect, it } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, jsonRequest } from "../support/test-gateway.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

describe("the access log", () => {
  it("writes one line per request: method, route pattern, status, duration, request id, frontend", async () => {
    const { app, logger } = await createTestGateway(sqlite);
    await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "x" }));
    const lines = logger.entries.filter((entry) => entry.message === "request");
    expect(lines).toEqual([
      {
        level: "info",
        message: "request",
        fields: { method: "POST", route: "/api/users", status: 200, durationMs: expect.any(Number), requestId: expect.any(String), frontend: "style" },
      },
    ]);
  });

  it("logs the route pattern, so ids and query strings (tokens) stay out", async () => {
    const { app, logger } = await createTestGateway(sqlite);
    await app.request("/api/tasks/photo-123?frontend=style&token=secret-abc", { headers: { "x-request-id": "req-1" } });
    const line = logger.entries.find((entry) => entry.message === "request");
    expect(line?.fields).toMatchObject({ route: "/api/tasks/:id", status: 404, requestId: "req-1" });
    expect(JSON.stringify(logger.entries)).not.toMatch(/secret-abc|photo-123/);
  });

  it("logs error answers with their status too", async () => {
    const { app, logger } = await createTestGateway(sqlite);
    await app.request("/api/users", jsonRequest("POST", { frontend: "nope", externalId: "x" }));
    expect(logger.entries.find((entry) => entry.message === "request")?.fields).toMatchObject({ route: "/api/users", status: 400 });
  });
});
