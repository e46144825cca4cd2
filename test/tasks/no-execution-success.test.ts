import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, isFinalStatus, pollQueue, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const params = JSON.stringify({ prompt: "a small fox logo", steps: 2, width: 256, height: 256, seed: 3 });

describe.each(dialectCases)("a ComfyUI too old to send execution_success, on $name", (dialect) => {
  it.skipIf(dialect.skip)("ends the task succeeded with its image when the run's `executing` with no node comes", async () => {
    const fake = await fakeForTest({ omitExecutionSuccess: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `gpu=${fake.url}` });
    const userId = await createUser(gateway.url, "logo", "no-execution-success");
    const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params });
    expect(answer.status).toBe(202);
    const { task } = (await answer.json()) as { task: { id: string } };
    const answers = await pollQueue(gateway.url, "logo", task.id, isFinalStatus);
    expect(answers.at(-1)?.status).toBe("succeeded");
    const row = (await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=logo`)).json()).task;
    expect(row.outputUrls).toHaveLength(1);
    expect(fake.counters.promptsFinished).toBe(1);
  });
});
