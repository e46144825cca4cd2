import { randomUUID } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest, socketForTest, tracedWorkflows } from "../../test/fake-comfy/helpers.ts";
import { decodePng, encodePng, solidRaster } from "../../test/fake-comfy/png.ts";
import { isDone } from "../../test/fake-comfy/ws-recorder.ts";
import { ComfyClient } from "./comfy-client.ts";
import type { FetchLike } from "./http.ts";
import { ComfyNotFoundError, ComfyUnavailableError, ComfyValidationError } from "./errors.ts";

const workflows = tracedWorkflows();

/** A fetch that records (and may rewrite) the JSON bodies the client sends, by path. */
function recordingFetch(rewrite: (body: Record<string, unknown>) => void = () => undefined) {
  const bodies: Array<{ path: string; body: Record<string, unknown> }> = [];
  const fetchImpl: FetchLike = async (input, init) => {
    const path = new URL(input).pathname;
    if (typeof init?.body === "string") {
      const body = JSON.parse(init.body) as Record<string, unknown>;
      bodies.push({ path, body: { ...body } });
      rewrite(body);
      return fetch(input, { ...init, body: JSON.stringify(body) });
    }
    return fetch(input, init);
  };
  return { fetchImpl, sent: (path: string) => bodies.filter((b) => b.path === path).map((b) => b.body) };
}

describe("ComfyClient against the fake", () => {
  it("queues a prompt, sees it waiting in the queue, then reads its history and output PNG", async () => {
    // Paused, so the prompt is certainly still waiting when the queue and history are read.
    const fake = await fakeForTest({ paused: true });
    const ws = await socketForTest(fake);
    const client = new ComfyClient({ baseUrl: `${fake.url}/`, timeoutMs: 2_000 });
    const pixels = encodePng(solidRaster(3, 2, 0x0a141e));
    const upload = await client.uploadImage({ bytes: pixels, filename: `in-${randomUUID()}.png`, contentType: "image/png" });
    const prompt = { ...workflows.invert, "1": { class_type: "LoadImage", inputs: { image: upload.name } } } as never;
    const queued = await client.queuePrompt({ prompt, clientId: ws.clientId ?? "" });
    expect(queued).toMatchObject({ number: 0, nodeErrors: {} });
    const queue = await client.getQueue();
    expect(queue).toEqual({ running: [], pending: [{ number: 0, promptId: queued.promptId, clientId: ws.clientId }] });
    expect(await client.getHistory(queued.promptId)).toBeNull();
    fake.setOptions({ paused: false });
    await ws.waitFor(isDone(queued.promptId));
    const entry = await client.getHistory(queued.promptId);
    expect(entry?.status).toMatchObject({ status_str: "success", completed: true });
    const image = entry?.outputs["3"]?.images?.[0];
    expect(image).toEqual({ filename: "peer_invert_00001_.png", subfolder: "", type: "output" });
    const file = await client.view(image ?? { filename: "", subfolder: "", type: "output" });
    expect(file.contentType).toBe("image/png");
    const decoded = decodePng(file.bytes);
    expect(decoded?.width).toBe(3);
    expect([...(decoded?.rgb.subarray(0, 3) ?? [])]).toEqual([255 - 0x0a, 255 - 0x14, 255 - 0x1e]);
  });

  it("view of a missing file throws ComfyNotFoundError", async () => {
    const fake = await fakeForTest();
    const client = new ComfyClient({ baseUrl: fake.url });
    const error = await client.view({ filename: "missing.png", subfolder: "", type: "output" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComfyNotFoundError);
    expect(error).toMatchObject({ code: "not_found", message: "ComfyUI has no output file missing.png" });
  });

  it("upload renames a different-bytes duplicate and keeps the name for identical bytes or overwrite", async () => {
    const fake = await fakeForTest();
    const client = new ComfyClient({ baseUrl: fake.url });
    const name = `dup-${randomUUID()}.png`;
    const a = encodePng(solidRaster(2, 2, 1));
    const b = encodePng(solidRaster(2, 2, 2));
    expect(await client.uploadImage({ bytes: a, filename: name, contentType: "image/png" })).toEqual({ name, subfolder: "", type: "input" });
    expect((await client.uploadImage({ bytes: a, filename: name, contentType: "image/png" })).name).toBe(name);
    expect((await client.uploadImage({ bytes: b, filename: name, contentType: "image/png" })).name).toBe(name.replace(".png", " (1).png"));
    expect((await client.uploadImage({ bytes: b, filename: name, contentType: "image/png", overwrite: true })).name).toBe(name);
    expect(fake.counters.uploads).toBe(4);
  });

  it("a 400 for an unknown class is a ComfyValidationError with no node errors", async () => {
    const fake = await fakeForTest();
    const client = new ComfyClient({ baseUrl: fake.url });
    const error = await client.queuePrompt({ prompt: { "1": { class_type: "NoSuchNode", inputs: {} } }, clientId: "c" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComfyValidationError);
    expect(error).toMatchObject({ type: "invalid_prompt", message: "Cannot execute because node NoSuchNode does not exist.", comfyDetails: "Node ID '#1'", nodeErrors: [], code: "comfy_validation_failed" });
  });

  it("a 400 for bad inputs normalises node_errors to an array with input names", async () => {
    const fake = await fakeForTest();
    const client = new ComfyClient({ baseUrl: fake.url });
    const prompt = { "1": { class_type: "LoadImage", inputs: { image: "nope.png" } }, "2": { class_type: "SaveImage", inputs: { images: ["1", 0] } } };
    const error = await client.queuePrompt({ prompt, clientId: "c" }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      type: "prompt_outputs_failed_validation",
      nodeErrors: [
        {
          nodeId: "1",
          classType: "LoadImage",
          errors: [{ type: "custom_validation_failed", message: "Custom validation failed for node", details: "image - Invalid image file: nope.png", inputName: "image" }],
        },
        { nodeId: "2", classType: "SaveImage", errors: [{ type: "required_input_missing", inputName: "filename_prefix" }] },
      ],
    });
    const noOutputs = await client.queuePrompt({ prompt: { "1": prompt["1"] }, clientId: "c" }).catch((e: unknown) => e);
    expect(noOutputs).toMatchObject({ type: "prompt_no_outputs", nodeErrors: [] });
  });

  it("interrupt stops the running prompt; deleteFromQueue removes a pending one (empty answers)", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageBlur: 200 } });
    const ws = await socketForTest(fake);
    const client = new ComfyClient({ baseUrl: fake.url });
    const running = await client.queuePrompt({ prompt: workflows.interrupt as never, clientId: ws.clientId ?? "" });
    const pending = await client.queuePrompt({ prompt: workflows.empty as never, clientId: ws.clientId ?? "" });
    await client.deleteFromQueue([pending.promptId]);
    expect((await client.getQueue()).pending).toEqual([]);
    await ws.waitFor((f) => f.kind === "json" && f.type === "executing" && f.data.node === "2");
    await client.interrupt(running.promptId);
    await ws.waitFor(isDone(running.promptId));
    const entry = await client.getHistory(running.promptId);
    expect(entry?.status?.messages.at(-1)?.[0]).toBe("execution_interrupted");
    expect(fake.counters.interrupts).toBe(1);
  });

  it("server facts: systemStats, objectInfo, features by version, and client prompt ids", async () => {
    const old = new ComfyClient({ baseUrl: (await fakeForTest({ omitVersion: true })).url });
    const current = new ComfyClient({ baseUrl: (await fakeForTest({ version: "current" })).url });
    const stats = await old.systemStats();
    expect(stats.system.comfyui_version).toBeUndefined();
    expect(stats.devices[0]).toMatchObject({ name: expect.stringContaining("GPU"), vram_free: expect.any(Number) });
    expect(Object.keys(await old.objectInfo())).toContain("KSampler");
    expect(await old.features()).toBeNull();
    expect(await current.features()).toMatchObject({ supports_preview_metadata: true });
    const wanted = randomUUID();
    expect((await current.queuePrompt({ prompt: workflows.empty as never, clientId: "c", promptId: wanted })).promptId).toBe(wanted);
    expect((await old.queuePrompt({ prompt: workflows.empty as never, clientId: "c", promptId: wanted })).promptId).not.toBe(wanted);
  });

  it("chooses a fresh prompt_id on current servers, none on 0.3.x, and reports each queued prompt", async () => {
    for (const version of ["0.3.14", "current"] as const) {
      const fake = await fakeForTest({ version });
      const { sent, fetchImpl } = recordingFetch();
      const queued: string[] = [];
      const client = new ComfyClient({ baseUrl: fake.url, fetch: fetchImpl, onQueued: (id) => queued.push(id) });
      const a = await client.queuePrompt({ prompt: workflows.empty as never, clientId: "c" });
      const b = await client.queuePrompt({ prompt: workflows.empty as never, clientId: "c" });
      const ids = sent("/prompt").map((body) => body.prompt_id);
      if (version === "current") expect(ids).toEqual([a.promptId, b.promptId]);
      else expect(ids).toEqual([undefined, undefined]);
      expect(a.promptId).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.promptId).not.toBe(b.promptId);
      expect(queued).toEqual([a.promptId, b.promptId]);
      const current = version === "current";
      expect(client.capabilities).toEqual({ clientPromptId: current, progressState: current, previewMetadata: current, jobsApi: current });
    }
  });

  it("an answer that does not echo the chosen id is used as is, and ids are no longer sent", async () => {
    const fake = await fakeForTest({ version: "current" });
    // A proxy in between drops the field: the server assigns its own id.
    const { sent, fetchImpl } = recordingFetch((body) => {
      delete body.prompt_id;
    });
    const client = new ComfyClient({ baseUrl: fake.url, fetch: fetchImpl });
    const first = await client.queuePrompt({ prompt: workflows.empty as never, clientId: "c", promptId: "chosen" });
    expect(first.promptId).not.toBe("chosen");
    expect(client.capabilities?.clientPromptId).toBe(false);
    await client.queuePrompt({ prompt: workflows.empty as never, clientId: "c" });
    expect(sent("/prompt").map((body) => body.prompt_id)).toEqual(["chosen", undefined]);
    expect(await client.supportsClientPromptId()).toBe(false);
  });

  it("refreshCapabilities re-learns them after the server changed release", async () => {
    const fake = await fakeForTest();
    const client = new ComfyClient({ baseUrl: fake.url });
    expect(await client.supportsClientPromptId()).toBe(false);
    fake.setOptions({ version: "current" });
    expect(await client.supportsClientPromptId()).toBe(false);
    expect(await client.refreshCapabilities()).toEqual({ clientPromptId: true, progressState: true, previewMetadata: true, jobsApi: true });
    const wanted = randomUUID();
    expect((await client.queuePrompt({ prompt: workflows.empty as never, clientId: "c", promptId: wanted })).promptId).toBe(wanted);
  });

  it("a release with /features but no jobs API is not sent to it; getJob reads a job's state and outputs", async () => {
    const fake = await fakeForTest({ version: "current", failRoutes: ["/jobs"] });
    const client = new ComfyClient({ baseUrl: fake.url });
    expect(await client.getCapabilities()).toMatchObject({ clientPromptId: true, jobsApi: false });
    fake.setOptions({ failRoutes: [] });
    expect((await client.refreshCapabilities()).jobsApi).toBe(true);
    const ws = await socketForTest(fake);
    const queued = await client.queuePrompt({ prompt: workflows.empty as never, clientId: ws.clientId ?? "" });
    await ws.waitFor(isDone(queued.promptId));
    const job = await client.getJob(queued.promptId);
    expect(job?.status).toBe("completed");
    expect(job?.entry?.outputs["2"]?.images?.[0]).toMatchObject({ filename: expect.stringMatching(/^peer_empty_/), type: "output" });
    expect(await client.getJob("unknown")).toBeNull();
  });

  it("500, a silent server, and a closed port become ComfyUnavailableError", async () => {
    const fake = await fakeForTest({ fail500: true });
    const failing = await new ComfyClient({ baseUrl: fake.url }).getQueue().catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(ComfyUnavailableError);
    expect(failing).toMatchObject({ httpStatus: 500, code: "comfy_unavailable" });

    const held = new Set<Socket>();
    const silent = createServer((socket) => held.add(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    onTestFinished(() => {
      for (const socket of held) socket.destroy();
      silent.close();
    });
    const port = (silent.address() as { port: number }).port;
    const slow = await new ComfyClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 150 }).systemStats().catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(ComfyUnavailableError);
    expect((slow as Error).message).toContain("timed out after 150 ms");

    await fake.kill();
    const closed = await new ComfyClient({ baseUrl: fake.url }).systemStats().catch((e: unknown) => e);
    expect(closed).toMatchObject({ name: "ComfyUnavailableError", httpStatus: null });
    // The network failure stays in the cause chain for the logs.
    expect((closed as Error).cause).toMatchObject({ name: "TypeError", message: "fetch failed" });
  });
});
