import { describe, expect, it } from "vitest";
import { dialectCases, mysqlUrl } from "../support/dialects.ts";
import { startTcpProxy, targetOf, throughProxy } from "../support/tcp-proxy.ts";
import { createTestGateway, jsonRequest } from "../support/test-gateway.ts";

/** The logo frontend's own database behind a proxy that cuts every connection (a server that is down). */
async function gatewayWithLogoDown(dialect: (typeof dialectCases)[number]) {
  // Nothing needs to listen behind it: while cut, no connection reaches the target.
  const proxy = await startTcpProxy({ host: "127.0.0.1", port: 9 });
  proxy.cut();
  const gateway = await createTestGateway(dialect, { DATABASE_URL_LOGO: `mysql://root@127.0.0.1:${proxy.port}/aipack_logo_down` });
  return { ...gateway, proxy };
}

describe.each(dialectCases)("a frontend database that is down, with the others on $name", (dialect) => {
  it.skipIf(dialect.skip)("/readyz answers 503 naming the frontend whose database is down", async () => {
    const { app } = await gatewayWithLogoDown(dialect);
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    const body = await ready.json();
    expect(body.databases).toEqual({ style: "ok", logo: "unavailable" });
    expect(body.error).toMatchObject({ code: "database_unavailable", message: expect.stringContaining("logo") });
  });

  it.skipIf(dialect.skip)("that frontend's requests answer 503 database_unavailable", async () => {
    const { app, proxy } = await gatewayWithLogoDown(dialect);
    const down = await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "x" }));
    expect(down.status).toBe(503);
    expect((await down.json()).error).toMatchObject({ code: "database_unavailable", message: expect.stringContaining("logo") });
    const photos = await app.request("/api/tasks?frontend=logo&userId=u");
    expect(photos.status).toBe(503);
    expect(proxy.refused).toBeGreaterThan(0);
  });

  it.skipIf(dialect.skip)("the other frontends and /healthz keep answering", async () => {
    const { app } = await gatewayWithLogoDown(dialect);
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "x" }))).status).toBe(200);
    expect((await app.request("/healthz")).status).toBe(200);
  });
});

// MySQL only: an embedded SQLite file has no connection to lose, and a file that cannot be opened
// fails when the gateway starts, not on a later query.
describe.skipIf(mysqlUrl === null)("a MySQL database that goes away and comes back", () => {
  const mysql = dialectCases.find((d) => d.name === "mysql")!;

  async function gatewayBehindProxy() {
    const proxy = await startTcpProxy(targetOf(mysqlUrl!));
    const gateway = await createTestGateway(mysql, { DATABASE_URL_LOGO: throughProxy(mysqlUrl!, proxy) });
    return { ...gateway, proxy };
  }

  it("is used again once it answers (readiness is retried, not cached as a failure)", async () => {
    const { app, proxy } = await gatewayBehindProxy();
    proxy.cut();
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "b" }))).status).toBe(503);
    proxy.restore();
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "b" }))).status).toBe(200);
  });

  it("an outage after it was ready answers 503, and requests succeed again once it is back", async () => {
    const { app, proxy } = await gatewayBehindProxy();
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "c" }))).status).toBe(200);
    proxy.cut();
    const down = await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "c" }));
    expect(down.status).toBe(503);
    expect((await down.json()).error.code).toBe("database_unavailable");
    proxy.restore();
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "c" }))).status).toBe(200);
  });
});
