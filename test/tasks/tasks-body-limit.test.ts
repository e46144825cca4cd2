import http from "node:http";
import { describe, expect, it, onTestFinished } from "vitest";
import { defaultAuthHeaders } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const boundary = "aipack-body-limit";

/**
 * Starts a multipart POST /api/tasks and sends only `sentBytes` of its body, never ending it;
 * resolves with the answer, which can therefore only come before the body was read to its end.
 */
function answerBeforeBodyEnds(url: string, headers: Record<string, string>, sentBytes: number) {
  return new Promise<{ status: number; body: { error: { code: string } } }>((resolve, reject) => {
    const request = http.request(`${url}/api/tasks`, { method: "POST", headers: { "content-type": `multipart/form-data; boundary=${boundary}`, ...defaultAuthHeaders(url), ...headers } });
    onTestFinished(() => {
      request.destroy();
    });
    request.on("error", reject);
    request.on("response", (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as { error: { code: string } } }));
    });
    request.write(`--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="big.png"\r\ncontent-type: image/png\r\n\r\n`);
    request.write(Buffer.alloc(sentBytes, 7));
  });
}

describe("POST /api/tasks with a body over the upload limit", () => {
  const limit = 1024 * 1024;
  it.each([
    ["declares its length", (bytes: number) => ({ "content-length": String(bytes) }), 64 * 1024],
    ["is sent chunked, without a length", () => ({ "transfer-encoding": "chunked" }), 2 * limit],
  ])("that %s is refused 413 before the whole body is sent", async (_name, headers, sentBytes) => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url, MAX_UPLOAD_BYTES: String(limit) });
    const answer = await answerBeforeBodyEnds(gateway.url, headers(20 * limit), sentBytes);
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe("file_too_large");
    expect(fake.counters.uploads).toBe(0);
  });
});
