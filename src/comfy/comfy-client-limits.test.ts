import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { ComfyClient } from "./comfy-client.ts";
import { ComfyUnavailableError } from "./errors.ts";

/** A stand-in ComfyUI that answers /view with `size` bytes and records each request's headers. */
async function viewServer(size: number, options: { chunked?: boolean } = {}) {
  const seen: IncomingMessage["headers"][] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const body = Buffer.alloc(size, 1);
    if (options.chunked) res.writeHead(200, { "content-type": "image/png" });
    else res.writeHead(200, { "content-type": "image/png", "content-length": size });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const ref = { filename: "out.png", subfolder: "", type: "output" };

describe("ComfyClient limits", () => {
  it("sends a server's credentials as Basic auth", async () => {
    const server = await viewServer(10);
    const client = new ComfyClient({ baseUrl: server.url, basicAuth: Buffer.from("u:p").toString("base64") });
    await client.view(ref);
    expect(server.seen[0]?.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
  });

  it("refuses a /view answer larger than maxViewBytes, declared or streamed", async () => {
    for (const chunked of [false, true]) {
      const server = await viewServer(200_000, { chunked });
      const client = new ComfyClient({ baseUrl: server.url, maxViewBytes: 100_000 });
      const error = await client.view(ref).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ComfyUnavailableError);
      expect((error as Error).message).toBe("ComfyUI /view: answer larger than 100000 bytes");
    }
  });

  it("reads a /view answer within the limit whole", async () => {
    const server = await viewServer(100_000, { chunked: true });
    const { bytes } = await new ComfyClient({ baseUrl: server.url, maxViewBytes: 100_000 }).view(ref);
    expect(bytes.byteLength).toBe(100_000);
  });
});
