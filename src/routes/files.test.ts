import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { serve } from "@hono/node-server";
import { describe, expect, it, onTestFinished } from "vitest";
import { createLocalFilesRouter } from "./files.ts";

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "aipack-files-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Sends the path byte for byte: fetch and URL would fold `..` before it left the client. */
function rawGet(port: number, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: rawPath, method: "GET" }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

describe("createLocalFilesRouter", () => {
  async function routerWithFiles() {
    const root = await tempDir();
    const dir = path.join(root, "files");
    await mkdir(path.join(dir, "2025", "01"), { recursive: true });
    await writeFile(path.join(dir, "2025", "01", "abcdefgh.webp"), "webp-bytes");
    await writeFile(path.join(dir, "2025", "01", "abcdefgh.webp.x1.tmp"), "partial");
    await writeFile(path.join(dir, "2025", "01", "notes.bin"), "opaque");
    // A secret next to the files folder: the target of every traversal attempt below.
    await writeFile(path.join(root, "secret.png"), "secret");
    return { router: createLocalFilesRouter({ dir , urlSecret: "u".repeat(32) }), dir };
  }

  it("serves known files with the type of their extension", async () => {
    const { router } = await routerWithFiles();
    const webp = await router.request("/files/2025/01/abcdefgh.webp");
    expect(webp.status).toBe(200);
    expect(webp.headers.get("content-type")).toBe("image/webp");
    expect(await webp.text()).toBe("webp-bytes");

    const opaque = await router.request("/files/2025/01/notes.bin");
    expect(opaque.headers.get("content-type")).toBe("application/octet-stream");
  });

  it("answers 404 with the error envelope for a missing file", async () => {
    const { router } = await routerWithFiles();
    const response = await router.request("/files/2025/01/missing00.png");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "not_found", message: "File not found" } });
  });

  it.each([
    "/files/../secret.png",
    "/files/%2e%2e/secret.png",
    "/files/..%2fsecret.png",
    "/files/2025/..%2F..%2F..%2Fsecret.png",
    "/files/%2E%2E%5Csecret.png",
    "/files//etc/passwd",
    "/files/2025/01/abcdefgh.webp.x1.tmp",
    "/files/2025/01/.hidden.png",
    "/files/2025/01/%00.png",
    "/files/%E0%A4%A.png",
    "/files/2025",
    "/files/",
  ])("refuses %s", async (url) => {
    const { router } = await routerWithFiles();
    const response = await router.request(url);
    expect(response.status).toBe(404);
    const body = await response.text();
    expect(body).not.toContain("secret");
    expect(body).not.toContain("partial");
    // URL parsing already folds a literal `..`, leaving the request to the app's own 404.
    if (response.headers.get("content-type")?.includes("json")) {
      expect(JSON.parse(body)).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("answers HEAD with the headers and no body", async () => {
    const { router } = await routerWithFiles();
    const response = await router.request("/files/2025/01/abcdefgh.webp", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("10");
    expect(await response.text()).toBe("");
  });

  it("keeps raw traversal paths out over a real socket", async () => {
    const { router } = await routerWithFiles();
    const server = serve({ fetch: router.fetch, hostname: "127.0.0.1", port: 0 });
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;

    expect((await rawGet(port, "/files/2025/01/abcdefgh.webp")).body).toBe("webp-bytes");
    // Node's HTTP parser refuses a backslash in the path (400) before the router sees it.
    for (const [rawPath, status] of [["/files/../secret.png", 404], ["/files/2025/../../secret.png", 404], ["/files/%2e%2e/secret.png", 404], ["/files/..\\secret.png", 400]] as const) {
      const response = await rawGet(port, rawPath);
      expect(response.status, rawPath).toBe(status);
      expect(response.body).not.toContain("secret");
    }
  });
});
