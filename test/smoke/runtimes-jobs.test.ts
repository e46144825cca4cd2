import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { decodePng } from "../fake-comfy/png.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { loadConfig } from "../../src/config/config.ts";
import { knownFrontends } from "../../src/controllers/db-controller-map.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { openControllers } from "../../src/server/build-deps.ts";
import { dialectCases } from "../support/dialects.ts";
import { spawnGateway, type Runtime } from "../support/spawn-gateway.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask } from "../support/task-client.ts";
import { expectMonotonicProgressAndSameResult, expectProductOwnerFlow, txt2imgParams } from "../support/watch-flow.ts";
import { openProgressClient } from "../support/ws-client.ts";
import { relaxedLimitsEnv } from "../support/relaxed-limits.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const runtimes: Runtime[] = ["node", "bun"];

/** A gateway process over `data` (fresh SQLite files by default; pass an earlier one's to restart). */
async function gatewayOn(runtime: Runtime, comfyUrl: string, data = sqlite.env(), extra: Record<string, string> = {}) {
  const { env, cleanup } = data;
  const gateway = await spawnGateway(runtime, { ...env, ...extra, COMFY_SERVERS: comfyUrl, POOL_CHECK_INTERVAL_MS: "200", COMFY_TIMEOUT_MS: "1500" });
  await expect.poll(async () => (await (await apiFetch(`${gateway.url}/api/servers`)).json()).summary.available, { timeout: 30_000 }).toBe(1);
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
      const { task: done } = await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json();
      const image = decodePng(new Uint8Array(await (await fetch(done.outputUrls[0])).arrayBuffer()));
      expect(image).toMatchObject({ width: 5, height: 7 });
      expect(await gateway.stop()).toBe(0);
    } finally {
      cleanup();
    }
  });

  it("relays one job's progress to 100 WebSocket clients, and says 1001 on shutdown", async () => {
    // Paused until all 100 are subscribed: on a loaded machine the last ones would join mid-run.
    const fake = await fakeForTest({ msPerStep: 15, paused: true });
    const { gateway, cleanup } = await gatewayOn(runtime, fake.url);
    try {
      const userId = await createUser(gateway.url, "logo", `ws-${runtime}`);
      const blocker = (await (await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(15) })).json()).task.id;
      const taskId = (await (await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(20) })).json()).task.id;
      const url = `${gateway.url.replace("http", "ws")}/api/ws?frontend=logo&taskId=${taskId}`;
      const clients = await Promise.all(Array.from({ length: 100 }, () => openProgressClient(url)));
      await Promise.all(clients.map((client) => client.waitFor((m) => m.type === "subscribed")));
      fake.setOptions({ paused: false });
      await expectMonotonicProgressAndSameResult(clients);
      // The job queued ahead of it ran first, and ended too.
      expect((await (await apiFetch(`${gateway.url}/api/tasks/${blocker}?frontend=logo`)).json()).task.status).toBe("succeeded");
      const stays = await openProgressClient(`${gateway.url.replace("http", "ws")}/api/ws?frontend=logo`);
      const closing = stays.closed;
      expect(await gateway.stop()).toBe(0);
      expect((await closing).code).toBe(1001);
    } finally {
      cleanup();
    }
  });

  it("the product owner's flow: ws open, poll until running (ahead 1 first), progress, a downloadable result", async () => {
    const fake = await fakeForTest({ msPerStep: 80, paused: true });
    const { gateway, cleanup } = await gatewayOn(runtime, fake.url);
    try {
      const userId = await createUser(gateway.url, "logo", `owner-${runtime}`);
      const submit = async (steps: number) => {
        const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(steps) });
        expect(answer.status).toBe(202);
        return (await answer.json()).task.id as string;
      };
      await expectProductOwnerFlow(gateway.url, submit, fake);
      expect(await gateway.stop()).toBe(0);
    } finally {
      cleanup();
    }
  });

  it("SIGTERM mid-job leaves the row running; a new process on the same DATA_DIR ends it succeeded", async () => {
    const fake = await fakeForTest({ msPerStep: 60 });
    const data = sqlite.env();
    try {
      const first = (await gatewayOn(runtime, fake.url, { env: data.env, cleanup: () => undefined })).gateway;
      const userId = await createUser(first.url, "logo", `restart-${runtime}`);
      const taskId = (await (await submitTask(first.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(30) })).json()).task.id as string;
      await pollQueue(first.url, "logo", taskId, (a) => a.running, 20);
      expect(await first.stop("SIGTERM")).toBe(0);

      // Read the row as the stopped process left it: shutdown must not have ended the job.
      const config = loadConfig({ ...relaxedLimitsEnv, ...data.env, COMFY_SERVERS: fake.url }, knownFrontends);
      const logo = openControllers(config, systemClock).get("logo")!;
      try {
        expect((await logo.getTask(taskId))?.status).toBe("running");
      } finally {
        await logo.close();
      }

      const second = (await gatewayOn(runtime, fake.url, { env: data.env, cleanup: () => undefined })).gateway;
      const polls = await pollQueue(second.url, "logo", taskId, isFinalStatus, 50);
      expect(polls.at(-1)?.status).toBe("succeeded");
      const { task } = await (await apiFetch(`${second.url}/api/tasks/${taskId}?frontend=logo`)).json();
      expect((await fetch(task.outputUrls[0])).status).toBe(200);
      expect(await second.stop()).toBe(0);
    } finally {
      data.cleanup();
    }
  });

  it("finishes a request in flight when told to stop", async () => {
    const fake = await fakeForTest();
    // Early binding: the submit itself uploads to ComfyUI, a request that stays in flight (late scheduling answers first).
    const { gateway, cleanup } = await gatewayOn(runtime, fake.url, sqlite.env(), { SCHEDULING: "early" });
    try {
      const userId = await createUser(gateway.url, "style", `drain-${runtime}`);
      fake.setOptions({ holdRoutes: ["/upload/image"] });
      const inFlight = submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "x.png" } });
      // The submit is in flight: its upload reached ComfyUI, which does not answer.
      await expect.poll(() => fake.counters.held).toBe(1);
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
