import { createServer } from "node:http";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { closedPortUrl, silentListener } from "../fake-comfy/net-listeners.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway } from "../support/test-gateway.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

async function answering500(): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(500);
    res.end("boom");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => void server.close());
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe("GET /api/servers", () => {
  it("tells which check fails for each kind of broken server", async () => {
    const fake = await fakeForTest();
    const servers = [
      `ok=${fake.url}`,
      `closed=${await closedPortUrl()}`,
      `nxdomain=http://comfy.does-not-exist.invalid:8188`,
      `silent=${await silentListener()}`,
      `error500=${await answering500()}`,
    ].join(",");
    const { app, deps } = await createTestGateway(sqlite, { COMFY_SERVERS: servers, COMFY_TIMEOUT_MS: "500" });
    onTestFinished(() => deps.pool.close());

    const before = await (await app.request("/api/servers")).json();
    expect(before.summary).toEqual({ total: 5, available: 0 });
    expect(before.servers.every((s: { state: string }) => s.state === "unknown")).toBe(true);

    const answer = await app.request("/api/servers?refresh=1");
    expect(answer.status).toBe(200);
    const { summary, servers: list } = await answer.json();
    const byId = Object.fromEntries(list.map((s: { id: string }) => [s.id, s]));
    expect(summary).toEqual({ total: 5, available: 1 });
    expect(byId.ok).toMatchObject({ healthy: true, checks: { host: { ok: true }, port: { ok: true }, api: { ok: true } }, queue: { running: 0, pending: 0 }, comfyuiVersion: expect.any(String) });
    expect(byId.ok.latencyMs).toEqual(expect.any(Number));
    expect(byId.closed).toMatchObject({ healthy: false, checks: { host: { ok: true }, port: { ok: false }, api: { ok: false } } });
    expect(byId.nxdomain).toMatchObject({ healthy: false, checks: { host: { ok: false }, port: { ok: false }, api: { ok: false } } });
    expect(byId.silent).toMatchObject({ healthy: false, checks: { host: { ok: true }, port: { ok: true }, api: { ok: false } } });
    expect(byId.error500).toMatchObject({ healthy: false, checks: { host: { ok: true }, port: { ok: true }, api: { ok: false } } });
    expect(byId.error500.checks.api.error).toMatch(/500/);
    expect((await app.request("/api/servers?refresh=yes")).status).toBe(400);
  });
});

describe("GET /api/workflows", () => {
  it("lists each frontend's templates and their parameters", async () => {
    const { app } = await createTestGateway(sqlite);
    const style = await (await app.request("/api/workflows?frontend=style")).json();
    const names = style.workflows.map((w: { name: string }) => w.name);
    expect(names).toEqual(expect.arrayContaining(["invert", "blur", "img2img"]));
    const blur = style.workflows.find((w: { name: string }) => w.name === "blur");
    expect(blur.image).toMatchObject({ required: true });
    expect(blur.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["blur_radius", "sigma"]));
    const img2img = style.workflows.find((w: { name: string }) => w.name === "img2img");
    expect(img2img.requiresModels).toEqual(["v1-5-pruned-emaonly.safetensors"]);

    const logo = await (await app.request("/api/workflows?frontend=logo")).json();
    expect(logo.workflows.map((w: { name: string }) => w.name).sort()).toEqual(["swatch", "txt2img"]);
    expect(logo.workflows.find((w: { name: string }) => w.name === "swatch").image).toBeNull();
    const unknown = await app.request("/api/workflows?frontend=poster");
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.code).toBe("unknown_frontend");
  });

  it("a broken template stops the gateway at start with a clear message", async () => {
    const { mkdtempSync, cpSync, writeFileSync, rmSync } = await import("node:fs");
    const path = await import("node:path");
    const os = await import("node:os");
    const dir = mkdtempSync(path.join(os.tmpdir(), "aipack-wf-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(path.resolve(import.meta.dirname, "../../workflows"), dir, { recursive: true });
    writeFileSync(
      path.join(dir, "logo", "swatch.binding.json"),
      JSON.stringify({ description: "x", parameters: { width: { type: "integer", description: "w", targets: [{ node: "9", input: "width" }] } }, outputs: ["2"] }),
    );
    await expect(createTestGateway(sqlite, { WORKFLOWS_DIR: dir })).rejects.toThrow(/swatch.*width.*node "?9/);
  });
});

describe("CORS", () => {
  it("answers allowed browser origins on the REST API only when configured", async () => {
    const closed = await createTestGateway(sqlite);
    const plain = await closed.app.request("/api/workflows?frontend=logo", { headers: { origin: "https://app.example" } });
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();

    const { app } = await createTestGateway(sqlite, { CORS_ORIGINS: "https://app.example" });
    const allowed = await app.request("/api/workflows?frontend=logo", { headers: { origin: "https://app.example" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const preflight = await app.request("/api/tasks", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "idempotency-key" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("Idempotency-Key");
    const other = await app.request("/api/workflows?frontend=logo", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
