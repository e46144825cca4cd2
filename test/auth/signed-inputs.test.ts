import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

async function uploadedTask() {
  const fake = await fakeForTest();
  const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}` });
  const userId = await createUser(gateway.url, "style", "selfie-owner");
  const image = { bytes: pngBytes(), type: "image/png", name: "me.png" };
  const submitted = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image });
  const { task } = (await submitted.json()) as { task: { id: string } };
  const { task: read } = (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json()) as { task: { inputUrl: string } };
  return { gateway, inputUrl: new URL(read.inputUrl) };
}

describe("uploaded inputs are private: signed, expiring URLs for their owner", () => {
  it("the task shows the upload as a signed URL that downloads the bytes", async () => {
    const { inputUrl } = await uploadedTask();
    expect(inputUrl.pathname).toMatch(/^\/files\/style\/inputs\//);
    expect(inputUrl.searchParams.get("expires")).toMatch(/^\d+$/);
    const download = await fetch(inputUrl);
    expect(download.status).toBe(200);
    expect(download.headers.get("cache-control")).toContain("private");
    expect(download.headers.get("content-type")).toBe("image/png");
    expect([...new Uint8Array(await download.arrayBuffer()).slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it.each([
    ["without the signature", (url: URL) => url.origin + url.pathname],
    ["with a later expiry than signed", (url: URL) => url.href.replace(/expires=\d+/, `expires=${Math.floor(Date.now() / 1000) + 999_999}`)],
    ["with an expiry in the past", (url: URL) => url.href.replace(/expires=\d+/, "expires=1000")],
    ["with another file's signature", (url: URL) => url.href.replace(/inputs\/(\d+)\/(\d+)\/[^.?]+/, "inputs/$1/$2/AAAAAAAAAAAAAAAAAAAAAAAA")],
  ])("answers 403 forbidden %s", async (_name, tamper) => {
    const { inputUrl } = await uploadedTask();
    const answer = await fetch(tamper(inputUrl));
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });
});
