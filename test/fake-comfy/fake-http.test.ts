import { describe, expect, it } from "vitest";
import { fakeForTest, postPrompt, queue, socketForTest, tracedWorkflows } from "./helpers.ts";
import { readTrace } from "./traces.ts";
import { isDone } from "./ws-recorder.ts";

const workflows = tracedWorkflows();
type Json = Record<string, unknown>;
const get = async (url: string): Promise<{ status: number; json: unknown }> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  const text = await res.text();
  const isJson = res.headers.get("content-type")?.startsWith("application/json") === true;
  return { status: res.status, json: isJson ? (JSON.parse(text) as unknown) : text };
};
const shape = (v: unknown): unknown =>
  Array.isArray(v) ? "array" : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)])) : typeof v;

describe("fake ComfyUI HTTP answers match the traces", () => {
  it("400 for an unknown node class is the traced body, node_errors a list", async () => {
    const fake = await fakeForTest();
    const res = await postPrompt(fake, { prompt: { "1": { class_type: "NoSuchNode", inputs: {} } }, client_id: "x" });
    expect(res.status).toBe(400);
    expect(res.json).toEqual(readTrace("prompt-400-unknown-node.json"));
  });

  it("400 for a bad input is the traced body, node_errors an object", async () => {
    const fake = await fakeForTest();
    const prompt = { ...workflows.invert, "1": { class_type: "LoadImage", inputs: { image: "nope.png" } } };
    delete (prompt as Json)["3"];
    (prompt as Json)["2"] = { class_type: "SaveImage", inputs: { images: ["1", 0], filename_prefix: "x" } };
    const res = await postPrompt(fake, { prompt, client_id: "x" });
    expect(res.status).toBe(400);
    expect(res.json).toEqual(readTrace("prompt-400-bad-input.json"));
  });

  it("with keepUploads off keeps an upload's name (the prompt validates) but not its bytes (the run fails)", async () => {
    const fake = await fakeForTest({ keepUploads: false });
    const form = new FormData();
    form.set("image", new Blob([new Uint8Array([1, 2, 3])], { type: "image/png" }), "dropped.png");
    const res = await fetch(`${fake.url}/upload/image`, { method: "POST", body: form });
    expect(await res.json()).toEqual({ name: "dropped.png", subfolder: "", type: "input" });
    const prompt = { ...workflows.invert, "1": { class_type: "LoadImage", inputs: { image: "dropped.png" } } };
    const queued = await postPrompt(fake, { prompt, client_id: "x" });
    expect(queued.status).toBe(200);
    const id = String(queued.json.prompt_id);
    await expect.poll(async () => (((await get(`${fake.url}/history/${id}`)).json as Record<string, { status?: Json }>)[id]?.status?.status_str)).toBe("error");
  });

  it("offers its checkpoints as CheckpointLoaderSimple's combo and refuses any other file", async () => {
    const fake = await fakeForTest({ checkpoints: ["b.safetensors", "a.safetensors"] });
    const info = (await (await fetch(`${fake.url}/object_info/CheckpointLoaderSimple`)).json()) as Json;
    expect(info).toMatchObject({ CheckpointLoaderSimple: { input: { required: { ckpt_name: [["a.safetensors", "b.safetensors"]] } } } });
    const prompt = (ckpt: string) => ({
      "1": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: ckpt } },
      "2": { class_type: "EmptyLatentImage", inputs: { width: 64, height: 64, batch_size: 1 } },
      "3": { class_type: "VAEDecode", inputs: { samples: ["2", 0], vae: ["1", 2] } },
      "4": { class_type: "SaveImage", inputs: { images: ["3", 0], filename_prefix: "x" } },
    });
    expect((await postPrompt(fake, { prompt: prompt("a.safetensors"), client_id: "x" })).status).toBe(200);
    const refused = await postPrompt(fake, { prompt: prompt("c.safetensors"), client_id: "x" });
    expect(refused).toMatchObject({
      status: 400,
      json: { error: { type: "prompt_outputs_failed_validation" }, node_errors: { "1": { class_type: "CheckpointLoaderSimple", errors: [{ type: "value_not_in_list", extra_info: { input_name: "ckpt_name" } }] } } },
    });
  });

  it("400 for a missing required input, a bad link, no outputs and no prompt", async () => {
    const fake = await fakeForTest();
    const missing = await postPrompt(fake, { prompt: { "1": { class_type: "EmptyImage", inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, "2": { class_type: "SaveImage", inputs: { filename_prefix: "p" } } } });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ error: { type: "prompt_outputs_failed_validation" }, node_errors: { "2": { class_type: "SaveImage", errors: [{ type: "required_input_missing", extra_info: { input_name: "images" } }] } } });
    const badLink = await postPrompt(fake, { prompt: { "2": { class_type: "SaveImage", inputs: { images: ["9", 0], filename_prefix: "p" } } } });
    expect(badLink.json).toMatchObject({ error: { type: "prompt_outputs_failed_validation" }, node_errors: { "2": { errors: [{ type: "bad_linked_input" }] } } });
    const noOutputs = await postPrompt(fake, { prompt: { "1": { class_type: "EmptyImage", inputs: { width: 8, height: 8, batch_size: 1, color: 0 } } } });
    expect(noOutputs).toMatchObject({ status: 400, json: { error: { type: "prompt_no_outputs" }, node_errors: [] } });
    expect(await postPrompt(fake, { client_id: "x" })).toEqual({ status: 400, json: { error: "no prompt", node_errors: [] } });
    expect(fake.counters.promptPosts).toBe(4);
    expect((await get(`${fake.url}/queue`)).json).toEqual({ queue_running: [], queue_pending: [] });
  });

  it("/queue lists 5-tuples like queue-while-running.json; pending deletes answer an empty body", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageBlur: 300 } });
    const ws = await socketForTest(fake);
    const running = await queue(fake, workflows.progress, ws.clientId);
    const a = await queue(fake, workflows.invert, ws.clientId);
    const b = await queue(fake, workflows.empty, ws.clientId);
    const { json } = await get(`${fake.url}/api/queue`);
    expect(shape(json)).toEqual(shape(readTrace("queue-while-running.json")));
    const q = json as { queue_running: unknown[][]; queue_pending: unknown[][] };
    expect(q.queue_running.map((t) => t[1])).toEqual([running]);
    expect(q.queue_pending.map((t) => t[1]).sort()).toEqual([a, b].sort());
    expect(q.queue_running[0]?.length).toBe(5);
    expect(q.queue_running[0]?.[3]).toEqual({ client_id: ws.clientId });
    const del = await fetch(`${fake.url}/queue`, { method: "POST", body: JSON.stringify({ delete: [a, "unknown-id"] }) });
    expect(del.status).toBe(200);
    expect(await del.text()).toBe("");
    const after = (await get(`${fake.url}/queue`)).json as typeof q;
    expect(after.queue_pending.map((t) => t[1])).toEqual([b]);
    await fetch(`${fake.url}/queue`, { method: "POST", body: JSON.stringify({ clear: true }) });
    expect(((await get(`${fake.url}/queue`)).json as typeof q).queue_pending).toEqual([]);
    expect((await get(`${fake.url}/prompt`)).json).toEqual({ exec_info: { queue_remaining: 1 } });
    await ws.waitFor(isDone(running));
    expect(fake.counters.queueReads).toBe(3);
  });

  it("/history has the traced shapes for success, error and interrupt, and {} when unknown or unfinished", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageBlur: 200 } });
    const ws = await socketForTest(fake);
    const ok = await queue(fake, workflows.invert, ws.clientId);
    await ws.waitFor(isDone(ok));
    const failed = await queue(fake, workflows.runtime_error, ws.clientId);
    await ws.waitFor(isDone(failed));
    const stopped = await queue(fake, workflows.interrupt, ws.clientId);
    expect((await get(`${fake.url}/history/${stopped}`)).json).toEqual({});
    await ws.waitFor((f) => f.kind === "json" && f.type === "executing" && f.data.node === "2");
    await fetch(`${fake.url}/interrupt`, { method: "POST" });
    await ws.waitFor(isDone(stopped));
    const cases: Array<[string, string]> = [[ok, "history-success.json"], [failed, "history-error.json"], [stopped, "history-interrupted.json"]];
    for (const [id, file] of cases) {
      const mine = ((await get(`${fake.url}/history/${id}`)).json as Record<string, Json>)[id];
      const traced = Object.values(readTrace<Record<string, Json>>(file))[0];
      expect(Object.keys(mine ?? {}).sort(), file).toEqual(Object.keys(traced ?? {}).sort());
      const messages = (e: Json | undefined) => ((e?.status as Json).messages as Array<[string, Json]>).map(([t, d]) => [t, Object.keys(d).sort()]);
      expect(messages(mine), file).toEqual(messages(traced));
      expect({ ...(mine?.status as Json), messages: null }).toEqual({ ...(traced?.status as Json), messages: null });
      expect(shape((mine?.prompt as unknown[]).slice(0, 2))).toEqual(shape((traced?.prompt as unknown[]).slice(0, 2)));
    }
    const success = ((await get(`${fake.url}/history/${ok}`)).json as Record<string, Json>)[ok];
    expect(success?.outputs).toEqual({ "3": { images: [{ filename: "peer_invert_00001_.png", subfolder: "", type: "output" }] } });
    expect(success?.meta).toEqual({ "3": { node_id: "3", display_node: "3", parent_node: null, real_node_id: "3" } });
    expect((await get(`${fake.url}/history/not-a-prompt`)).json).toEqual({});
  });

  it("/view serves the PNG a prompt produced, 404 when missing, 403 on path tricks", async () => {
    const fake = await fakeForTest();
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.empty, ws.clientId);
    await ws.waitFor(isDone(id));
    const res = await fetch(`${fake.url}/view?filename=peer_empty_00001_.png&subfolder=&type=output`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-disposition")).toBe('filename="peer_empty_00001_.png"');
    expect(Buffer.from(await res.arrayBuffer()).subarray(1, 4).toString()).toBe("PNG");
    expect((await fetch(`${fake.url}/view?filename=nothing.png&type=output`)).status).toBe(404);
    expect((await fetch(`${fake.url}/view?filename=../secret.png&type=output`)).status).toBe(403);
  });

  it("/features and /system_stats differ by version mode; unknown routes 404", async () => {
    const old = await fakeForTest();
    const current = await fakeForTest({ version: "current" });
    expect((await get(`${old.url}/features`)).status).toBe(404);
    expect((await get(`${current.url}/api/features`)).json).toMatchObject({ supports_preview_metadata: true });
    expect((await get(`${old.url}/system_stats`)).json).toMatchObject({ system: { comfyui_version: "0.3.14" }, devices: [{ type: "cuda" }] });
    old.setOptions({ omitVersion: true });
    const stats = (await get(`${old.url}/system_stats`)).json as { system: Json };
    expect(stats.system.comfyui_version).toBeUndefined();
    expect((await get(`${old.url}/nope`)).status).toBe(404);
  });

  it("/object_info describes every class the realistic workflows use", async () => {
    const fake = await fakeForTest();
    const info = (await get(`${fake.url}/object_info`)).json as Record<string, Json>;
    for (const name of ["CheckpointLoaderSimple", "CLIPTextEncode", "KSampler", "VAEDecode", "VAEEncode", "EmptyLatentImage", "LoadImage", "SaveImage", "ImageInvert", "ImageBlur", "EmptyImage", "ImageScale", "SaveImageWebsocket"]) {
      expect(info[name], name).toMatchObject({ name, input: { required: expect.any(Object) }, output: expect.any(Array) });
    }
    expect(info.SaveImage?.output_node).toBe(true);
    expect((info.LoadImage?.input as { required: { image: unknown[] } }).required.image[0]).toEqual(["probe_in.png"]);
    expect((await get(`${fake.url}/object_info/KSampler`)).json).toHaveProperty("KSampler");
  });

  it("knobs: fail500 answers 500 everywhere, hang never answers", async () => {
    const fake = await fakeForTest({ fail500: true });
    expect((await fetch(`${fake.url}/system_stats`)).status).toBe(500);
    fake.setOptions({ fail500: false, hang: true });
    await expect(fetch(`${fake.url}/system_stats`, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
  });

  it("nodeClasses limits /object_info and /prompt; failRoutes and routeDelayMs hit only their paths", async () => {
    const fake = await fakeForTest({ nodeClasses: ["EmptyImage", "SaveImage"], failRoutes: ["/queue"], routeDelayMs: { "/system_stats": 150 } });
    expect(Object.keys((await get(`${fake.url}/object_info`)).json as Json).sort()).toEqual(["EmptyImage", "SaveImage"]);
    expect((await get(`${fake.url}/object_info/KSampler`)).json).toEqual({});
    expect((await postPrompt(fake, { prompt: workflows.invert, client_id: "x" })).json).toMatchObject({ error: { type: "invalid_prompt" } });
    expect((await postPrompt(fake, { prompt: workflows.empty, client_id: "x" })).status).toBe(200);
    expect((await get(`${fake.url}/queue`)).status).toBe(500);
    const started = Date.now();
    expect((await get(`${fake.url}/system_stats`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
