import { describe, expect, it } from "vitest";
import { decodePng } from "../fake-comfy/png.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

describe.each(dialectCases)("jobs end to end on $name", (dialect) => {
  it.skipIf(dialect.skip)("style: three uploads queue up, ahead falls 2 → 1 → 0, each ends with a downloadable PNG", async () => {
    const fake = await fakeForTest({ msPerStep: 1, nodeDelayMs: { ImageInvert: 250 } });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "e2e-style");
    const input = pngBytes(6, 4, 0x204060);

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: input, type: "image/png", name: "me.png" } });
      expect(answer.status).toBe(202);
      const stages = (answer.headers.get("server-timing") ?? "").split(",").map((metric) => metric.trim().split(";")[0]);
      expect(stages).toEqual(expect.arrayContaining(["parse", "check", "user", "pick", "upload", "prompt", "store", "db", "total"]));
      const { task } = await answer.json();
      expect(task).toMatchObject({ status: "queued", workflow: "invert", server: expect.any(String) });
      expect(task.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      ids.push(task.id);
    }

    const answers = await pollQueue(gateway.url, "style", ids[2]!, isFinalStatus);
    const aheads = answers.filter((a) => a.status === "queued").map((a) => a.ahead);
    expect(aheads[0]).toBe(2);
    expect([...new Set(aheads)]).toEqual([2, 1, 0].slice(0, new Set(aheads).size));
    expect(answers.some((a) => a.running && a.status === "running" && a.ahead === 0)).toBe(true);
    expect(answers.at(-1)).toMatchObject({ status: "succeeded", running: false, ahead: 0 });

    for (const id of ids) {
      const { task } = await (await fetch(`${gateway.url}/api/tasks/${id}?frontend=style`)).json();
      expect(task.status).toBe("succeeded");
      expect(task.outputUrls).toHaveLength(1);
      expect(task.inputUrl).toMatch(new RegExp(`^${gateway.url}/files/style/inputs/`));
      const download = await fetch(task.outputUrls[0]);
      expect(download.status).toBe(200);
      expect(download.headers.get("content-type")).toBe("image/png");
      const image = decodePng(new Uint8Array(await download.arrayBuffer()));
      expect(image).toMatchObject({ width: 6, height: 4 });
    }
    const photos = await (await fetch(`${gateway.url}/api/photos?frontend=style&userId=${userId}`)).json();
    expect(photos.items.map((p: { id: string }) => p.id).sort()).toEqual([...ids].sort());
  });

  it.skipIf(dialect.skip)("logo: a model-free template without an image", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "logo", "e2e-logo");
    const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "swatch", params: JSON.stringify({ width: 16, height: 12 }) });
    expect(answer.status).toBe(202);
    const { task } = await answer.json();
    const answers = await pollQueue(gateway.url, "logo", task.id, isFinalStatus);
    expect(answers.at(-1)?.status).toBe("succeeded");
    const { task: done } = await (await fetch(`${gateway.url}/api/tasks/${task.id}?frontend=logo`)).json();
    const image = decodePng(new Uint8Array(await (await fetch(done.outputUrls[0])).arrayBuffer()));
    expect(image).toMatchObject({ width: 16, height: 12 });
    expect(done.inputUrl).toBeNull();
    // The task lives in the logo database only.
    expect((await fetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).status).toBe(404);
  });
});
