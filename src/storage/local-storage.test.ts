import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { createLocalFilesRouter } from "../routes/files.ts";
import { createLocalStorage } from "./local-storage.ts";
import { StorageUnavailableError } from "./storage.ts";

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "aipack-storage-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7, 7]);

describe("createLocalStorage", () => {
  it("writes under a random key and serves the same bytes back through the router", async () => {
    const dir = await tempDir();
    const storage = createLocalStorage({ dir, publicBaseUrl: "http://gw.test/", urlSecret: "u".repeat(32) });
    const router = createLocalFilesRouter({ dir , urlSecret: "u".repeat(32) });

    const stored = await storage.put({ bytes: png, contentType: "image/png", extension: "png", prefix: "style/results" });
    expect(stored.key).toMatch(/^style\/results\/\d{4}\/\d{2}\/[A-Za-z0-9_-]{24}\.png$/);
    expect(stored.url).toBe(`http://gw.test/files/${stored.key}`);

    const response = await router.request(new URL(stored.url).pathname);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("cache-control")).toContain("immutable");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-length")).toBe(String(png.byteLength));
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(png);
  });

  it("gives every put its own key and leaves no temporary files", async () => {
    const dir = await tempDir();
    const storage = createLocalStorage({ dir, publicBaseUrl: "http://gw.test", urlSecret: "u".repeat(32) });
    const keys = await Promise.all(
      Array.from({ length: 20 }, () => storage.put({ bytes: png, contentType: "image/png", extension: "png" })),
    );
    expect(new Set(keys.map((stored) => stored.key)).size).toBe(20);
    const files = await readdir(dir, { recursive: true });
    expect(files.filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses a prefix or extension that could escape the folder", async () => {
    const storage = createLocalStorage({ dir: await tempDir(), publicBaseUrl: "http://gw.test", urlSecret: "u".repeat(32) });
    await expect(storage.put({ bytes: png, contentType: "image/png", extension: "png", prefix: "../up" })).rejects.toThrow(TypeError);
    await expect(storage.put({ bytes: png, contentType: "image/png", extension: "png/../x" })).rejects.toThrow(TypeError);
  });

  it("check() creates the folder, and fails when it cannot be written", async () => {
    const dir = await tempDir();
    await expect(createLocalStorage({ dir: path.join(dir, "nested", "files"), publicBaseUrl: "", urlSecret: "u".repeat(32) }).check()).resolves.toBeUndefined();

    // A regular file where the folder should be: neither check() nor put() can succeed.
    const blocked = path.join(dir, "blocked");
    await writeFile(blocked, "not a folder");
    const storage = createLocalStorage({ dir: blocked, publicBaseUrl: "http://gw.test", urlSecret: "u".repeat(32) });
    await expect(storage.check()).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(storage.put({ bytes: png, contentType: "image/png", extension: "png" })).rejects.toMatchObject({
      code: "storage_unavailable",
      status: 503,
    });
  });

  it("writes again after its folders were removed between two puts", async () => {
    const dir = await tempDir();
    const storage = createLocalStorage({ dir, publicBaseUrl: "http://gw.test", urlSecret: "u".repeat(32) });
    const router = createLocalFilesRouter({ dir, urlSecret: "u".repeat(32) });
    await storage.put({ bytes: png, contentType: "image/png", extension: "png", prefix: "style/results" });
    await rm(path.join(dir, "style"), { recursive: true, force: true });
    const stored = await storage.put({ bytes: png, contentType: "image/png", extension: "png", prefix: "style/results" });
    const response = await router.request(new URL(stored.url).pathname);
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(png);
  });
});
