import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases, tempDir } from "../support/dialects.ts";
import { createUser, isFinalStatus, pollQueue, submitTask, untilDispatched } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

/**
 * The shipped templates plus `style/swatch_unsaved`: its binding names as output the EmptyImage
 * node, which ComfyUI runs but which shows no image (the SaveImage node is not the one named).
 */
function workflowsWithUnsavedOutput(): string {
  const { dir } = tempDir();
  cpSync(path.resolve(import.meta.dirname, "../../workflows"), dir, { recursive: true });
  mkdirSync(path.join(dir, "style"), { recursive: true });
  writeFileSync(
    path.join(dir, "style", "swatch_unsaved.json"),
    JSON.stringify({
      "1": { class_type: "EmptyImage", inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
      "2": { class_type: "SaveImage", inputs: { images: ["1", 0], filename_prefix: "aipack_style_swatch" } },
    }),
  );
  writeFileSync(
    path.join(dir, "style", "swatch_unsaved.binding.json"),
    JSON.stringify({ description: "Runs, but its named output shows no image.", parameters: {}, outputs: ["1"] }),
  );
  return dir;
}

describe.each(dialectCases)("a workflow that ends without an image, on $name", (dialect) => {
  it.skipIf(dialect.skip)("ends the task failed, saying no image was produced, with no output URLs", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, WORKFLOWS_DIR: workflowsWithUnsavedOutput() });
    const userId = await createUser(gateway.url, "style", "no-image");
    const answer = await submitTask(gateway.url, { frontend: "style", userId, workflow: "swatch_unsaved" });
    expect(answer.status).toBe(202);
    const { task } = (await answer.json()) as { task: { id: string } };
    const answers = await pollQueue(gateway.url, "style", task.id, isFinalStatus);
    expect(answers.at(-1)?.status).toBe("failed");
    const row = (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json()).task;
    expect(row).toMatchObject({ status: "failed", outputUrls: [], error: "The workflow finished without producing an image" });
    expect(fake.counters.promptsFinished).toBe(1);
  });

  it.skipIf(dialect.skip)("also when the end is read from /history after the stream was away: the other node's image is not taken", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, WORKFLOWS_DIR: workflowsWithUnsavedOutput() });
    const userId = await createUser(gateway.url, "style", "no-image-history");
    const { task } = (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "swatch_unsaved" })).json()) as { task: { id: string } };
    await untilDispatched(gateway.url, "style", task.id);
    await fake.kill();
    fake.setOptions({ paused: false });
    // The run ends with nobody connected: only /history tells how.
    await expect.poll(() => fake.counters.promptsFinished).toBe(1);
    await fake.start();
    const answers = await pollQueue(gateway.url, "style", task.id, isFinalStatus);
    expect(answers.at(-1)?.status).toBe("failed");
    const row = (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=style`)).json()).task;
    expect(row).toMatchObject({ status: "failed", outputUrls: [], error: "The workflow finished without producing an image" });
  });
});
