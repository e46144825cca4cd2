import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";
import { untilDispatched } from "../support/task-client.ts";
import { settled, submitMany } from "./fault-support.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const requeuedLog = "tasks back in the queue: comfy server lost before they started";

/** A gateway whose one server took a task and was then given up on, the task back in the gateway's queue. */
async function lostWithTask(fakeOptions: Parameters<typeof fakeForTest>[0], user: string) {
  const fake = await fakeForTest({ paused: true, ...fakeOptions });
  const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, COMFY_LOST_AFTER_MS: "200" });
  const { ids } = await submitMany(gw.url, 1, user);
  await untilDispatched(gw.url, "style", ids[0]!);
  const promptId = (await gw.deps.controllers.get("style")!.getTask(ids[0]!))!.promptId!;
  await fake.kill();
  await expect.poll(() => gw.logger.entries.some((e) => e.message === requeuedLog), { timeout: 15_000 }).toBe(true);
  return { fake, gw, taskId: ids[0]!, promptId };
}

// The server was away from the gateway, not stopped: it went on with its queue meanwhile.
describe("a lost server that returns after running the prompt the gateway took back", () => {
  it("is sent no take-back request, and the task runs again from the gateway's queue", async () => {
    const { fake, gw, taskId } = await lostWithTask({}, "take-back-ran");
    fake.setOptions({ paused: false });
    await expect.poll(() => fake.counters.promptsFinished).toBe(1);

    await fake.start();
    const [task] = await settled(gw.url, "style", [taskId]);
    expect(task?.status).toBe("succeeded");
    expect(fake.counters.queuePosts).toBe(0);
    expect(gw.logger.entries.filter((e) => e.message === "took back prompts that run elsewhere")).toEqual([]);
  });

  it("interrupts that prompt if it is still running", async () => {
    const { fake, promptId } = await lostWithTask({ version: "current", holdNodes: ["ImageInvert"] }, "take-back-running");
    // It starts while the server is away, and the gateway's /queue read on its return waits.
    fake.setOptions({ paused: false, holdRoutes: ["GET /queue"] });
    await fake.start();
    const job = async () => ((await (await fetch(`${fake.url}/api/jobs/${promptId}`)).json()) as { status?: string }).status;
    await expect.poll(job).toBe("in_progress");
    fake.setOptions({ holdRoutes: [] });

    await expect.poll(() => fake.counters.interrupts, { timeout: 15_000 }).toBe(1);
  });
});
