import { describe, expect, it } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, jsonRequest } from "../support/test-gateway.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const token = "metrics-token-0123456789";
const scrape = { headers: { authorization: `Bearer ${token}` } };

describe("GET /metrics", () => {
  it("answers Prometheus text to the operator's bearer token", async () => {
    const { app } = await createTestGateway(sqlite, { METRICS_TOKEN: token });
    const res = await app.request("/metrics", scrape);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toContain("# TYPE aipack_http_request_duration_seconds histogram");
  });

  it("labels request durations by route pattern and status, never by the raw path", async () => {
    const { app } = await createTestGateway(sqlite, { METRICS_TOKEN: token });
    await app.request("/api/users/some-user-id?frontend=style");
    const text = await (await app.request("/metrics", scrape)).text();
    expect(text).toMatch(/aipack_http_request_duration_seconds_count\{method="GET",route="\/api\/users\/:id",status="404"\} 1/);
    expect(text).not.toContain("some-user-id");
  });

  it("counts refusals by error code", async () => {
    const { app } = await createTestGateway(sqlite, { METRICS_TOKEN: token, DATABASE_URL_LOGO: "mysql://root@127.0.0.1:1/down" });
    await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "x" }));
    const text = await (await app.request("/metrics", scrape)).text();
    expect(text).toContain('aipack_refusals_total{code="database_unavailable"} 1');
  });

  it("reports each ComfyUI server's state", async () => {
    const { app } = await createTestGateway(sqlite, { METRICS_TOKEN: token, COMFY_SERVERS: "gpu1=http://127.0.0.1:1" });
    const text = await (await app.request("/metrics", scrape)).text();
    expect(text).toContain('aipack_comfy_server_up{server="gpu1"} 0');
  });

  it("refuses a scrape without the token with 401 unauthorized", async () => {
    const { app } = await createTestGateway(sqlite, { METRICS_TOKEN: token });
    // Only an Authorization header keeps the test gateway's default (admin) credential off.
    const res = await app.request("/metrics", { headers: { authorization: "" } });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
  });

  it("refuses a wrong token", async () => {
    const { app } = await createTestGateway(sqlite, { METRICS_TOKEN: token });
    const res = await app.request("/metrics", { headers: { authorization: "Bearer metrics-token-0123456780" } });
    expect(res.status).toBe(401);
  });

  it("stays shut when no token is configured", async () => {
    const { app } = await createTestGateway(sqlite);
    const res = await app.request("/metrics", { headers: { authorization: "Bearer " } });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
  });
});
