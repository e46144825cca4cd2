import { describe, expect, it } from "vitest";
import { fakeForTest, tracedWorkflows } from "../../test/fake-comfy/helpers.ts";
import type { CannedAnswer } from "../../test/fake-comfy/options.ts";
import { ComfyClient } from "./comfy-client.ts";
import { ComfyUnavailableError } from "./errors.ts";

// What a failing or foreign answer becomes, call by call: the error names the route that answered
// so (the logs and the pool's health reasons show it), never a blank one.

type Call = (client: ComfyClient) => Promise<unknown>;
const ref = { filename: "out.png", subfolder: "", type: "output" };
const image = { bytes: new Uint8Array([1, 2, 3]), filename: "in.png", contentType: "image/png" };
const prompt = { prompt: tracedWorkflows().empty as never, clientId: "c" };
const calls: Record<string, Call> = {
  getQueue: (client) => client.getQueue(),
  getHistory: (client) => client.getHistory("p-1"),
  systemStats: (client) => client.systemStats(),
  objectInfo: (client) => client.objectInfo(),
  view: (client) => client.view(ref),
  interrupt: (client) => client.interrupt(),
  deleteFromQueue: (client) => client.deleteFromQueue(["p-1"]),
  queuePrompt: (client) => client.queuePrompt(prompt),
  uploadImage: (client) => client.uploadImage(image),
};
type CallName = keyof typeof calls;
type Transport = "node-http" | "fetch";

/** Runs `call` against a fake whose `route` answers `answer` (or 500 when it is null). */
async function failure(call: CallName, route: string, answer: CannedAnswer | null, transport: Transport = "node-http") {
  const fake = await fakeForTest(answer === null ? { failRoutes: [route] } : { routeAnswers: { [route]: answer } });
  const error = await calls[call]!(new ComfyClient({ baseUrl: fake.url, transport })).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ComfyUnavailableError);
  return error as ComfyUnavailableError;
}

const html = (status: number): CannedAnswer => ({ status, body: "<!doctype html><title>Bad Gateway</title>", contentType: "text/html" });
const foreignJson = (status: number, body: unknown): CannedAnswer => ({ status, body: JSON.stringify(body), contentType: "application/json" });

describe("ComfyClient: failing and foreign answers name their route", () => {
  it.each([
    ["getQueue", "/queue", "node-http"],
    ["view", "/view", "node-http"],
    ["interrupt", "/interrupt", "node-http"],
    ["deleteFromQueue", "/queue", "node-http"],
    ["queuePrompt", "/prompt", "fetch"],
  ] as const)("%s: a 500 from %s (%s)", async (call, route, transport) => {
    const error = await failure(call, route, null, transport);
    expect(error).toMatchObject({ message: `ComfyUI ${route}: HTTP 500`, httpStatus: 500 });
  });

  it.each([
    ["getQueue", "/queue", "node-http"],
    ["getHistory", "/history/p-1", "node-http"],
    ["systemStats", "/system_stats", "node-http"],
    ["objectInfo", "/object_info", "node-http"],
    ["queuePrompt", "/prompt", "node-http"],
    ["queuePrompt", "/prompt", "fetch"],
    ["uploadImage", "/upload/image", "node-http"],
    ["uploadImage", "/upload/image", "fetch"],
  ] as const)("%s: JSON of another shape from %s (%s)", async (call, route, transport) => {
    const error = await failure(call, route, foreignJson(200, "another service"), transport);
    expect(error.message).toBe(`ComfyUI ${route}: unexpected answer shape`);
  });

  it.each([
    ["getQueue", "/queue", 200, "node-http"],
    ["queuePrompt", "/prompt", 200, "node-http"],
    ["queuePrompt", "/prompt", 200, "fetch"],
    ["queuePrompt", "/prompt", 400, "node-http"],
    ["queuePrompt", "/prompt", 400, "fetch"],
  ] as const)("%s: an HTML page from %s with status %i (%s)", async (call, route, status, transport) => {
    const error = await failure(call, route, html(status), transport);
    expect(error).toMatchObject({ message: `ComfyUI ${route}: unreadable JSON answer`, httpStatus: status });
  });

  it.each(["node-http", "fetch"] as const)("queuePrompt: a 400 whose JSON is not ComfyUI's validation answer is the server failing (%s)", async (transport) => {
    const error = await failure("queuePrompt", "/prompt", foreignJson(400, { detail: "Bad Request" }), transport);
    expect(error).toMatchObject({ message: "ComfyUI /prompt: HTTP 400", httpStatus: 400 });
  });
});

describe("ComfyClient: answers ComfyUI itself does not give", () => {
  it.each(["interrupt", "deleteFromQueue"] as const)("%s accepts a bodyless 204", async (call) => {
    const fake = await fakeForTest({ routeAnswers: { "/interrupt": { status: 204, body: "" }, "/queue": { status: 204, body: "" } } });
    await expect(calls[call]!(new ComfyClient({ baseUrl: fake.url }))).resolves.toBeUndefined();
    expect(fake.counters.requests).toBe(1);
  });

  it("view of a file served without a Content-Type gives application/octet-stream", async () => {
    const fake = await fakeForTest({ routeAnswers: { "/view": { status: 200, body: "bytes" } } });
    const file = await new ComfyClient({ baseUrl: fake.url }).view(ref);
    expect(file).toEqual({ bytes: new Uint8Array(Buffer.from("bytes")), contentType: "application/octet-stream" });
  });
});
