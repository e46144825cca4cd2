import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { isFinalMessage, openProgressClient } from "../support/ws-client.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

// Late scheduling moves a task prepared behind a job to a server that goes idle (prepared-rebalance.test.ts);
// early binding named the server in the submit's answer, and the task stays there.
describe.each(dialectCases)("early binding on $name", (dialect) => {
  it.skipIf(dialect.skip)("a task stays on the server its submit named, even when another server goes idle", async () => {
    const busy = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const spare = await fakeForTest();
    const gateway = await startTestServer(dialect, { SCHEDULING: "early", COMFY_SERVERS: `a=${busy.url},b=${spare.url}` });
    const userId = await createUser(gateway.url, "style", "early-stays");
    const submit = async () => (await (await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() })).json()).task as { id: string; server: string };
    // b is down while the first two are submitted: both go to a, one held running, one prepared behind it.
    await spare.kill();
    for (let i = 0; i < 2; i++) await apiFetch(`${gateway.url}/api/servers?refresh=1`);
    const first = await submit();
    const prepared = await submit();
    expect([first.server, prepared.server]).toEqual(["a", "a"]);
    await spare.start();
    await apiFetch(`${gateway.url}/api/servers?refresh=1`);
    // A task on b that ends leaves b idle while a still holds the prepared one.
    const onB = await submit();
    expect(onB.server).toBe("b");
    const client = await openProgressClient(`${gateway.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${onB.id}`);
    expect(await client.waitFor(isFinalMessage)).toMatchObject({ type: "succeeded" });
    // Whatever that ending set off in the gateway has run by now.
    await gateway.deps.tasks.dispatchIdle();
    expect((await (await apiFetch(`${gateway.url}/api/tasks/${prepared.id}?frontend=style`)).json()).task).toMatchObject({ status: "queued", server: "a" });
    expect(spare.counters.promptPosts).toBe(1);
  });
});
