import { describe, expect, it } from "vitest";
import { decodePng } from "../fake-comfy/png.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { spawnGateway, type Runtime } from "../support/spawn-gateway.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask } from "../support/task-client.ts";
import { freePort } from "../support/test-server.ts";
import { expectMonotonicProgressAndSameResult, txt2imgParams } from "../support/watch-flow.ts";
import { openProgressClient } from "../support/ws-client.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const runtimes: Runtime[] = ["node", "bun"];

async function gatewayOn(runtime: Runtime, comfyUrl: string) {
  const { env, cleanup } = sqlite.env();
  const port = await freePort();
  const gateway = await spawnGateway(runtime, { ...env, PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, COMFY_SERVERS: comfyUrl, POOL_CHECK_INTERVAL_MS: "200", COMFY_TIMEOUT_MS: "1500" });
  for (let i = 0; i < 100; i++) {
    const servers = await (await fetch(`${gateway.url}/api/servers`)).json();
    if (servers.summary.available === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { gateway, cleanup };
}

describe.each(runtimes)("the real gateway process on %s with a fake ComfyUI", (runtime) => {
  it("takes an upload to a downloadable result URL", async () => {
    const fake = await fakeForTest();
    const { gateway, cleanup } = await gatewayOn(runtime, fake.url);
    try {
      const userId = await createUser(gateway.url, "style", `runtime-${runtime}`);
      const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(5, 7), type: "image/png", name: "x.png" } });
      expect(answer.status).toBe(202);
      const { task } = await answer.json();
      expect((await pollQueue(gateway.url, "style", task.id, isFinalStatus, 20)).at(-1)?.status).toBe("succeeded");
      const { task: done } = await (await fetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json();
      const image = decodePng(new Uint8Array(await (await fetch(done.outputUrls[0])).arrayBuffer()));
      expect(image).toMatchObject({ width: 5, height: 7 });
      expect(await gateway.stop()).toBe(0);
    } finally {
      cleanup();
    }
  });

  it("relays one job's progress to 100 WebSocket clients, and says 1001 on shutdown", async () => {
    const fake = await fakeForTest({ msPerStep: 15 });
    const { gateway, cleanup } = await gatewayOn(runtime, fake.url);
    try {
      const userId = await createUser(gateway.url, "logo", `ws-${runtime}`);
      const blocker = (await (await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(15) })).json()).task.id;
      const taskId = (await (await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(20) })).json()).task.id;
      const url = `${gateway.url.replace("http", "ws")}/api/ws?frontend=logo&taskId=${taskId}`;
      const clients = await Promise.all(Array.from({ length: 100 }, () => openProgressClient(url)));
      await expectMonotonicProgressAndSameResult(clients);
      expect(blocker).not.toBe(taskId);
      const stays = await openProgressClient(`${gateway.url.replace("http", "ws")}/api/ws?frontend=logo`);
      const closing = stays.closed;
      expect(await gateway.stop()).toBe(0);
      expect((await closing).code).toBe(1001);
    } finally {
      cleanup();
    }
  });

  it("finishes a request in flight when told to stop", async () => {
    const fake = await fakeForTest();
    const { gateway, cleanup } = await gatewayOn(runtime, fake.url);
    try {
      const userId = await createUser(gateway.url, "style", `drain-${runtime}`);
      fake.setOptions({ hang: true });
      const inFlight = submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "x.png" } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const exited = gateway.stop();
      const answer = await inFlight;
      expect(answer.status).toBe(503);
      expect((await answer.json()).error.code).toBe("comfy_unavailable");
      expect(await exited).toBe(0);
    } finally {
      cleanup();
    }
  });
});
