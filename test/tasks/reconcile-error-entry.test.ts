import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pngBytes, pollQueue, submitTask, untilDispatched } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

// A ComfyUI (or a custom node) can record a failed run whose status says less than the usual
// execution_error: the next gateway still fails the task, with what is known.
describe("a job whose history entry records an error with few details, read by the next gateway", () => {
  it.each([
    ["a last message with no node and a padded exception", [["execution_start", {}], ["execution_error", { exception_message: "  out of memory \n" }]], "a node failed: out of memory"],
    ["no status message at all", [], "a node failed: the run failed"],
  ])("%s: failed, saying %j", async (_, messages, error) => {
    const fake = await fakeForTest({ paused: true });
    const env = { COMFY_SERVERS: fake.url };
    const first = await startTestServer(sqlite, env);
    const userId = await createUser(first.url, "style", "error-entry");
    const { task } = await (await submitTask(first.url, { frontend: "style", userId, workflow: "invert", image: image() })).json();
    await untilDispatched(first.url, "style", task.id);
    await first.close();
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_pending: Array<[number, string]> };
    const promptId = queue.queue_pending[0]![1];
    await fetch(`${fake.url}/queue`, { method: "POST", body: JSON.stringify({ clear: true }) });
    const entry = { [promptId]: { prompt: [], outputs: {}, status: { status_str: "error", completed: false, messages } } };
    fake.setOptions({ routeAnswers: { [`/history/${promptId}`]: { status: 200, body: JSON.stringify(entry), contentType: "application/json" } } });

    const second = await startTestServer(sqlite, env, first.data);
    const answers = await pollQueue(second.url, "style", task.id, isFinalStatus, 20);
    expect(answers.at(-1)?.status).toBe("failed");
    const { task: failed } = await (await apiFetch(`${second.url}/api/tasks/${task.id}?frontend=style`)).json();
    expect(failed).toMatchObject({ status: "failed", error, outputUrls: [] });
  });
});
