import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((dialect) => dialect.name === "sqlite")!;

/** `/api/tasks/:id`, `/api/tasks/{id}` and `/files/*` all become `/api/tasks/{}`, `/files/{}`. */
function normalisePath(path: string): string {
  return path.replace(/:[A-Za-z0-9_]+(\{[^}]*\})?/g, "{}").replace(/\{[^}]*\}/g, "{}").replace(/\*$/, "{}");
}

async function servedDocument() {
  const gateway = await startTestServer(sqlite, { HOST: "127.0.0.1", DEMO_LOGIN: "on" });
  const response = await fetch(`${gateway.url}/openapi.json`);
  expect(response.status).toBe(200);
  return { gateway, document: (await response.json()) as { paths: Record<string, Record<string, unknown>> } };
}

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const { document } = await servedDocument();
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect((document as unknown as { openapi: string }).openapi).toBe("3.1.0");
  });

  it("documents every route the app registers, and registers every documented one", async () => {
    const { gateway, document } = await servedDocument();
    const registered = new Set(
      gateway.app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${normalisePath(route.path)}`),
    );
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${normalisePath(path)}`)),
    );
    expect([...registered].filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !registered.has(route))).toEqual([]);
  });
});
