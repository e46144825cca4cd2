import { readdirSync, existsSync } from "node:fs";
import { apiFetch } from "../support/credentials.ts";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask, type SubmitFields } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
}

const jpegHeader = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]);

type Case = [what: string, fields: (base: SubmitFields) => SubmitFields | FormData | RequestInit, status: number, code: string];

const png = pngBytes();
const cases: Case[] = [
  ["PNG bytes declared as JPEG", (base) => ({ ...base, image: { bytes: png, type: "image/jpeg", name: "a.jpg" } }), 415, "unsupported_media_type"],
  ["JPEG bytes declared as PNG", (base) => ({ ...base, image: { bytes: jpegHeader, type: "image/png", name: "a.png" } }), 415, "unsupported_media_type"],
  ["a text file named .png", (base) => ({ ...base, image: { bytes: new TextEncoder().encode("hello, not an image"), type: "image/png", name: "x.png" } }), 415, "unsupported_media_type"],
  ["an empty file", (base) => ({ ...base, image: { bytes: new Uint8Array(), type: "image/png", name: "e.png" } }), 400, "validation_failed"],
  ["a 20 MB file", (base) => ({ ...base, image: { bytes: new Uint8Array(20 * 1024 * 1024).fill(7), type: "image/png", name: "big.png" } }), 413, "file_too_large"],
  ["no image for a workflow that needs one", (base) => ({ ...base, image: null }), 400, "validation_failed"],
  ["params that are not JSON", (base) => ({ ...base, params: "{oops" }), 400, "validation_failed"],
  ["params that break the template schema", (base) => ({ ...base, workflow: "blur", params: JSON.stringify({ blur_radius: 500 }) }), 400, "validation_failed"],
  ["params with an unknown key", (base) => ({ ...base, workflow: "blur", params: JSON.stringify({ radius: 3 }) }), 400, "validation_failed"],
  ["an unknown workflow", (base) => ({ ...base, workflow: "nope" }), 400, "validation_failed"],
  ["an unknown user", (base) => ({ ...base, userId: "no-such-user" }), 404, "not_found"],
  // The image is checked while the user is looked up; a refused image is still the answer.
  ["a text file named .png from an unknown user", (base) => ({ ...base, userId: "no-such-user", image: { bytes: new TextEncoder().encode("hello, not an image"), type: "image/png", name: "x.png" } }), 415, "unsupported_media_type"],
  ["an unknown frontend", (base) => ({ ...base, frontend: "poster" }), 400, "unknown_frontend"],
  [
    "a form without a workflow",
    (base) => {
      const form = new FormData();
      form.set("frontend", base.frontend);
      form.set("userId", base.userId ?? "");
      return form;
    },
    400,
    "validation_failed",
  ],
  ["a JSON body", () => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ frontend: "style" }) }), 400, "bad_request"],
];

describe.each(dialectCases)("bad submissions on $name", (dialect) => {
  it.skipIf(dialect.skip).each(cases)("%s: refused, with no row, no ComfyUI call and no file", async (_what, fields, status, code) => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, MAX_UPLOAD_BYTES: String(10 * 1024 * 1024) });
    const userId = await createUser(gateway.url, "style", "refused");
    const base: SubmitFields = { frontend: "style", userId, workflow: "invert", image: { bytes: png, type: "image/png", name: "a.png" } };
    const requestsBefore = fake.counters.requests;
    const request = fields(base);
    const answer =
      request instanceof FormData
        ? await apiFetch(`${gateway.url}/api/tasks`, { method: "POST", body: request })
        : "frontend" in request
          ? await submitTask(gateway.url, request)
          : await apiFetch(`${gateway.url}/api/tasks`, request);
    expect(answer.status).toBe(status);
    const body = await answer.json();
    expect(body.error).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
    expect(fake.counters.requests - requestsBefore).toBe(0);
    const list = await (await apiFetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}`)).json();
    expect(list.items).toEqual([]);
    expect(filesUnder(path.join(gateway.config.dataDir, "files"))).toEqual([]);
  });
});
