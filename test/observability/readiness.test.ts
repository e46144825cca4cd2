import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway } from "../support/test-gateway.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

describe("/readyz and storage", () => {
  it("is ready when the databases answer and storage takes a write", async () => {
    const { app } = await createTestGateway(sqlite);
    const res = await app.request("/readyz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ready", storage: "ok" });
  });

  it("answers 503 storage_unavailable when the files folder cannot be written", async () => {
    const { app, config } = await createTestGateway(sqlite);
    const files = path.join(config.dataDir, "files");
    rmSync(files, { recursive: true, force: true });
    writeFileSync(files, "not a folder"); // ENOTDIR even for root, unlike a chmod
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "unavailable", storage: "unavailable", error: { code: "storage_unavailable" } });
  });

  it("answers 503 when local storage's disk has less free space than STORAGE_MIN_FREE_BYTES", async () => {
    const { app } = await createTestGateway(sqlite, { STORAGE_MIN_FREE_BYTES: String(2 ** 52) });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: "storage_unavailable", message: expect.stringContaining("threshold") });
  });
});
