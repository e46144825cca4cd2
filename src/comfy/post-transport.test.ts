import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest, tracedWorkflows } from "../../test/fake-comfy/helpers.ts";
import { ComfyClient } from "./comfy-client.ts";
import { ComfyUnavailableError, ComfyValidationError } from "./errors.ts";

/** 1 MB of bytes that differ everywhere, so a byte lost or moved shows. */
const megabyte = () => new Uint8Array(1024 * 1024).map((_, i) => (i * 7919 + (i >> 8)) % 256);

/** A stand-in ComfyUI that answers /upload/image with `status` and `body`, recording what it got. */
async function uploadServer(status: number, body: string) {
  const seen: Array<{ headers: IncomingMessage["headers"]; bytes: number }> = [];
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => (bytes += chunk.byteLength));
    req.on("end", () => {
      seen.push({ headers: req.headers, bytes });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const upload = (client: ComfyClient, bytes = new Uint8Array([1, 2, 3])) => client.uploadImage({ bytes, filename: "in.png", contentType: "image/png" });

describe("ComfyClient POST transports (uploadImage, queuePrompt)", () => {
  it.each(["node-http", "fetch"] as const)("%s: a 1 MB image arrives byte for byte (the fake keeps the name for identical bytes)", async (transport) => {
    const fake = await fakeForTest();
    const client = new ComfyClient({ baseUrl: fake.url, transport });
    const name = `big-${randomUUID()}.png`;
    const bytes = megabyte();
    expect(await client.uploadImage({ bytes, filename: name, contentType: "image/png" })).toEqual({ name, subfolder: "", type: "input" });
    expect((await client.uploadImage({ bytes: megabyte(), filename: name, contentType: "image/png" })).name).toBe(name);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect((await client.uploadImage({ bytes, filename: name, contentType: "image/png" })).name).toBe(name.replace(".png", " (1).png"));
  });

  it("node-http is the default on Node, and sends Content-Length and Basic auth", async () => {
    const server = await uploadServer(200, JSON.stringify({ name: "in.png", subfolder: "", type: "input" }));
    const client = new ComfyClient({ baseUrl: server.url, basicAuth: Buffer.from("u:p").toString("base64") });
    expect(await upload(client, megabyte())).toEqual({ name: "in.png", subfolder: "", type: "input" });
    const headers = server.seen[0]!.headers;
    expect(headers.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
    expect(Number(headers["content-length"])).toBe(server.seen[0]!.bytes);
    expect(headers["transfer-encoding"]).toBeUndefined();
  });

  it.each(["node-http", "fetch"] as const)("%s: an HTTP 500 is ComfyUnavailableError with the status", async (transport) => {
    const server = await uploadServer(500, "boom");
    const error = await upload(new ComfyClient({ baseUrl: server.url, transport })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComfyUnavailableError);
    expect(error).toMatchObject({ message: "ComfyUI /upload/image: HTTP 500", httpStatus: 500 });
  });

  it.each(["node-http", "fetch"] as const)("%s: an answer that is not JSON is ComfyUnavailableError", async (transport) => {
    const server = await uploadServer(200, "<html>");
    const error = await upload(new ComfyClient({ baseUrl: server.url, transport })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ComfyUnavailableError", message: "ComfyUI /upload/image: unreadable JSON answer" });
  });

  it("node-http: a silent server times out as ComfyUnavailableError", async () => {
    const held = new Set<Socket>();
    const silent = createTcpServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => {
      for (const socket of held) socket.destroy();
      silent.close();
    });
    const client = new ComfyClient({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeoutMs: 150, transport: "node-http" });
    const error = await upload(client).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ComfyUnavailableError", message: "ComfyUI POST /upload/image: timed out after 150 ms", httpStatus: null });
  });

  // Which transport carried a POST shows in the cause of a refused connection: node:http's socket
  // error, or fetch's TypeError. Capabilities are learned first, so only the POST meets the closed port.
  it.each([
    ["uploadImage", undefined, { code: "ECONNREFUSED" }],
    ["uploadImage", "fetch", { name: "TypeError", message: "fetch failed" }],
    ["queuePrompt", undefined, { code: "ECONNREFUSED" }],
    ["queuePrompt", "fetch", { name: "TypeError", message: "fetch failed" }],
  ] as const)("%s with transport %s (node-http is the default on Node) fails with cause %o", async (call, transport, cause) => {
    const fake = await fakeForTest();
    const client = new ComfyClient({ baseUrl: fake.url, ...(transport === undefined ? {} : { transport }) });
    await client.getCapabilities();
    await fake.kill();
    const error = await (call === "uploadImage" ? upload(client) : client.queuePrompt({ prompt: tracedWorkflows().empty as never, clientId: "c" })).catch((e: unknown) => e);
    const path = call === "uploadImage" ? "/upload/image" : "/prompt";
    expect(error).toMatchObject({ name: "ComfyUnavailableError", message: `ComfyUI POST ${path}: network error` });
    expect((error as Error).cause).toMatchObject(cause);
  });

  it("node-http: a closed port is ComfyUnavailableError with the network failure as cause", async () => {
    const fake = await fakeForTest();
    await fake.kill();
    const error = await upload(new ComfyClient({ baseUrl: fake.url, transport: "node-http" })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ComfyUnavailableError", message: "ComfyUI POST /upload/image: network error", httpStatus: null });
    expect((error as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
  });

  it.each(["node-http", "fetch"] as const)("%s: queues a prompt, and a refused one is ComfyValidationError", async (transport) => {
    const fake = await fakeForTest({ paused: true });
    const client = new ComfyClient({ baseUrl: fake.url, transport });
    const queued = await client.queuePrompt({ prompt: tracedWorkflows().empty as never, clientId: "c" });
    expect((await client.getQueue()).pending.map((item) => item.promptId)).toEqual([queued.promptId]);
    const refused = await client.queuePrompt({ prompt: { "1": { class_type: "NoSuchNode", inputs: {} } } as never, clientId: "c" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ComfyValidationError);
  });

  it("node-http: a /prompt answering 500 is ComfyUnavailableError with the status", async () => {
    const fake = await fakeForTest({ failRoutes: ["/prompt"] });
    const error = await new ComfyClient({ baseUrl: fake.url, transport: "node-http" }).queuePrompt({ prompt: tracedWorkflows().empty as never, clientId: "c" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ComfyUnavailableError", message: "ComfyUI /prompt: HTTP 500", httpStatus: 500 });
  });
});
