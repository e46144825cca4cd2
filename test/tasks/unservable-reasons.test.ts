import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, untilDispatched, submitAccepted } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { workflowsWithImg2imgModels, workflowsWithTagged } from "../support/workflow-fixtures.ts";

const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });

async function taskOf(url: string, id: string) {
  return (await (await apiFetch(`${url}/api/tasks/${id}?frontend=style`)).json()).task;
}

/** The reason a waiting task gives, once the gateway has found that no live server can take it. */
async function reasonOf(url: string, id: string, reason: string) {
  await expect.poll(async () => (await taskOf(url, id)).waitReason).toBe(reason);
  expect(await taskOf(url, id)).toMatchObject({ status: "queued", server: null });
}

describe.each(dialectCases)("why a waiting task has no server, on $name", (dialect) => {
  it.skipIf(dialect.skip)("a workflow needing several tags names them all", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: `${fake.url};tags=big`, WORKFLOWS_DIR: workflowsWithTagged("big", "fast") });
    const userId = await createUser(gateway.url, "style", "two-tags");
    const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert_big", image: image() });
    await reasonOf(gateway.url, id, "no server that is up has the tags big, fast this workflow needs");
    expect(fake.counters.promptPosts).toBe(0);
  });

  it.skipIf(dialect.skip)("a workflow whose model files no server that is up has names them", async () => {
    const fake = await fakeForTest({ checkpoints: ["v1-5-pruned-emaonly.safetensors"] });
    const models = ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors", "vae-ft-mse.safetensors"];
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, WORKFLOWS_DIR: workflowsWithImg2imgModels(models) });
    const userId = await createUser(gateway.url, "style", "no-model");
    const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "img2img", image: image(), params: JSON.stringify({ prompt: "watercolor" }) });
    await reasonOf(gateway.url, id, `no server that is up has the model files ${models.join(", ")} this workflow needs`);
    expect(fake.counters.promptPosts).toBe(0);
  });

  it.skipIf(dialect.skip)("a workflow whose node class no server that is up offers says so", async () => {
    const fake = await fakeForTest({ nodeClasses: ["LoadImage", "SaveImage"] });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url });
    const userId = await createUser(gateway.url, "style", "no-node");
    const id = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await reasonOf(gateway.url, id, "no server that is up has the node classes this workflow needs");
    expect(fake.counters.promptPosts).toBe(0);
  });

  it.skipIf(dialect.skip)("with every server full, the rescan fails a waiting task whose workflow is no longer configured", async () => {
    const fake = await fakeForTest({ paused: true });
    const gateway = await startTestServer(dialect, { COMFY_SERVERS: fake.url, DISPATCH_DEPTH: "0", DISPATCH_RESCAN_MS: "50" });
    const userId = await createUser(gateway.url, "style", "retired");
    const blocker = await submitAccepted(gateway.url, { frontend: "style", userId, workflow: "invert", image: image() });
    await untilDispatched(gateway.url, "style", blocker);
    // Left by a gateway whose WORKFLOWS_DIR still had it.
    const db = gateway.deps.controllers.get("style")!;
    await db.createTask({ id: "retired-task", userId, workflow: "retired", params: {}, status: "queued", outputUrls: [], queueRound: 1, queueSeq: 1_000 });
    await expect.poll(async () => (await taskOf(gateway.url, "retired-task")).status).toBe("failed");
    expect((await taskOf(gateway.url, "retired-task")).error).toBe('Its workflow "retired" is no longer configured');
    expect(await taskOf(gateway.url, blocker)).toMatchObject({ status: "queued", server: expect.any(String) });
  });
});
