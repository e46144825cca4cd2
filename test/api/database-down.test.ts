import net from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, jsonRequest } from "../support/test-gateway.ts";

/** A port on which nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(dialectCases)("a frontend database that is down, with the others on $name", (dialect) => {
  it.skipIf(dialect.skip)("answers 503 for that frontend and keeps serving the others", async () => {
    const port = await closedPort();
    const { app } = await createTestGateway(dialect, { DATABASE_URL_LOGO: `mysql://root@127.0.0.1:${port}/aipack_logo_down` });

    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    const readyBody = await ready.json();
    expect(readyBody.databases).toEqual({ style: "ok", logo: "unavailable" });
    expect(readyBody.error).toMatchObject({ code: "database_unavailable", message: expect.stringContaining("logo") });

    const down = await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "x" }));
    expect(down.status).toBe(503);
    expect((await down.json()).error).toMatchObject({ code: "database_unavailable", message: expect.stringContaining("logo") });
    expect((await app.request("/api/tasks?frontend=logo&userId=u")).status).toBe(503);

    const up = await app.request("/api/users", jsonRequest("POST", { frontend: "style", externalId: "x" }));
    expect(up.status).toBe(200);
    expect((await app.request("/healthz")).status).toBe(200);
  });
});

describe("a database that comes back", () => {
  it("is used again once it answers (readiness is retried, not cached as a failure)", async () => {
    const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
    const { app, deps } = await createTestGateway(sqlite);
    const logo = deps.controllers.get("logo")!;
    let failNext = true;
    const realReady = logo.ready.bind(logo);
    logo.ready = async () => {
      if (failNext) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      return realReady();
    };
    onTestFinished(() => {
      logo.ready = realReady;
    });
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "b" }))).status).toBe(503);
    failNext = false;
    expect((await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "b" }))).status).toBe(200);
  });
});
