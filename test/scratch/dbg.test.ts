import { it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { apiFetch } from "../support/credentials.ts";
it("dbg", async () => {
  const fake = await fakeForTest();
  const gateway = await startTestServer(dialectCases[0]!, { COMFY_SERVERS: fake.url });
  const userId = await createUser(gateway.url, "logo", "e2e-logo");
  const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "swatch", params: JSON.stringify({ width: 16, height: 12 }) });
  const { task } = await answer.json();
  await new Promise((r) => setTimeout(r, 1500));
  console.log(JSON.stringify(await (await apiFetch(`${gateway.url}/api/tasks/${task.id}?frontend=logo`)).json()));
  console.log(JSON.stringify((gateway as any).logger?.entries ?? Object.keys(gateway)));
});
