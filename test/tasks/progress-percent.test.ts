import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { isFinalMessage, openProgressClient } from "../support/ws-client.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const params = (seed: number) => JSON.stringify({ prompt: "a small fox logo", seed, steps: 4, width: 256, height: 256 });

describe("the whole job's percent", () => {
  it("counts only the nodes ComfyUI runs, not those it takes from its cache", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "logo", "cached-percent");
    const follow = async (seed: number) => {
      const { task } = (await (await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params: params(seed) })).json()) as { task: { id: string } };
      const client = await openProgressClient(`${gateway.url.replace(/^http/, "ws")}/api/ws?frontend=logo&taskId=${task.id}`);
      await client.waitFor((m) => m.type === "subscribed");
      // Released only once followed: every progress message reaches the client.
      fake.setOptions({ paused: false });
      await client.waitFor(isFinalMessage);
      fake.setOptions({ paused: true });
      return client.messages.filter((m) => m.type === "progress").map((m) => m.percent);
    };
    // 7 nodes, all run: the sampler (the 5th) ends at 5/7 of the job.
    expect((await follow(1)).at(-1)).toBe(71.4);
    // Same prompt, new seed: ComfyUI reuses the loader, both encodes and the latent; of the 3 nodes
    // it runs, the sampler is the first, so its last step ends a third of the job.
    expect((await follow(2)).at(-1)).toBe(33.3);
  });
});
