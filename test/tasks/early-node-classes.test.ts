import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

// Early binding picks the server at submit (late scheduling's twin: the dispatcher's eligibility).
describe.each(dialectCases)("placing a task by node classes on $name", (dialect) => {
  it.skipIf(dialect.skip)("early binding: a template runs only on servers that offer its node classes", async () => {
    // "bare" lacks ImageInvert; both are paused, so "full" fills up while "bare" stays idle.
    const bare = await fakeForTest({ paused: true, nodeClasses: ["LoadImage", "SaveImage", "EmptyImage"] });
    const full = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { SCHEDULING: "early", COMFY_SERVERS: `bare=${bare.url},full=${full.url}` });
    const userId = await createUser(gateway.url, "style", "node-classes");
    for (let i = 0; i < 3; i++) {
      const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
      expect(answer.status).toBe(202);
      expect((await answer.json()).task.server).toBe("full");
    }
    expect(bare.counters.promptPosts).toBe(0);
  });
});
