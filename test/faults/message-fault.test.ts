import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";
import { untilDispatched } from "../support/task-client.ts";
import { submitMany } from "./fault-support.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

describe("a ComfyUI message whose effect cannot be recorded (the frontend's database is gone)", () => {
  it("is logged as an error naming the task and the message", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}` });
    const { ids } = await submitMany(gw.url, 1, "message-fault");
    await untilDispatched(gw.url, "style", ids[0]!);
    await gw.deps.controllers.get("style")!.close();
    fake.setOptions({ paused: false });

    await expect.poll(() => gw.logger.entries.some((e) => e.message === "task event failed")).toBe(true);
    expect(gw.logger.entries).toContainEqual({
      level: "error",
      message: "task event failed",
      fields: { taskId: ids[0], type: "execution_start", error: expect.any(String) },
    });
  });
});
