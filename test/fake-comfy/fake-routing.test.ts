import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fakeForTest, queue, socketForTest, tracedWorkflows } from "./helpers.ts";
import { isDone, label } from "./ws-recorder.ts";

const workflows = tracedWorkflows();
const execution = (frames: { kind: string; type?: string }[]) => frames.filter((f) => f.kind === "binary" || f.type !== "status");

describe("fake ComfyUI WebSocket routing", () => {
  it("sends a prompt's execution messages only to its client; status goes to everyone", async () => {
    const fake = await fakeForTest();
    const owner = await socketForTest(fake);
    const other = await socketForTest(fake);
    const id = await queue(fake, workflows.empty, owner.clientId);
    await owner.waitFor(isDone(id));
    // welcome, queued (+1), picked up, finished (-1)
    await other.waitFor(() => other.frames.filter((f) => label(f) === "status").length === 4);
    expect(execution(owner.frames).length).toBeGreaterThan(3);
    expect(execution(other.frames)).toEqual([]);
    expect(other.frames.filter((f) => label(f) === "status").length).toBe(4);
  });

  it("broadcasts the execution messages of a prompt queued without client_id", async () => {
    const fake = await fakeForTest();
    const a = await socketForTest(fake);
    const b = await socketForTest(fake, null);
    const id = await queue(fake, workflows.empty, null);
    await a.waitFor(isDone(id));
    await b.waitFor(isDone(id));
    expect(b.frames[0]?.kind === "json" && typeof b.frames[0].data.sid).toBe("string");
  });

  it("a second connection with the same clientId replaces the first", async () => {
    const fake = await fakeForTest();
    const clientId = `dup-${randomUUID()}`;
    const first = await socketForTest(fake, clientId);
    const second = await socketForTest(fake, clientId);
    expect(await first.closed).toBe(1000);
    const id = await queue(fake, workflows.empty, clientId);
    await second.waitFor(isDone(id));
    expect(first.frames.some((f) => label(f) === "execution_start")).toBe(false);
  });

  it("a client reconnecting while its prompt executes gets `executing` for the current node at once", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageBlur: 300 } });
    const clientId = `re-${randomUUID()}`;
    const before = await socketForTest(fake, clientId);
    const id = await queue(fake, workflows.progress, clientId);
    await before.waitFor((f) => label(f) === "executing:2");
    before.close();
    const after = await socketForTest(fake, clientId);
    await after.waitFor(isDone(id));
    expect(after.frames.slice(0, 2).map(label)).toEqual(["status", "executing:2"]);
    // server.py sends `{ node }` only: no prompt_id, no display_node.
    expect(after.frames[1]?.kind === "json" && after.frames[1].data).toEqual({ node: "2" });
  });

  it("closeSocketsMidRun drops every socket once, right after the first executing", async () => {
    const fake = await fakeForTest({ closeSocketsMidRun: true });
    const ws = await socketForTest(fake);
    await queue(fake, workflows.empty, ws.clientId);
    expect(await ws.closed).toBe(1006);
    expect(ws.frames.map(label).at(-1)).toBe("executing:1");
    expect(fake.options.closeSocketsMidRun).toBe(false);
  });

  it("failure knobs: failOnClass and failNextPrompt end in execution_error", async () => {
    const fake = await fakeForTest({ failOnClass: "ImageInvert" });
    const ws = await socketForTest(fake);
    const a = await queue(fake, workflows.invert, ws.clientId);
    await ws.waitFor(isDone(a));
    const errorOf = (id: string) => ws.frames.find((f) => f.kind === "json" && f.type === "execution_error" && f.data.prompt_id === id);
    expect(errorOf(a)).toMatchObject({ data: { node_type: "ImageInvert", exception_type: "RuntimeError" } });
    fake.setOptions({ failOnClass: null, failNextPrompt: true });
    const b = await queue(fake, workflows.empty, ws.clientId);
    await ws.waitFor(isDone(b));
    expect(errorOf(b)).toMatchObject({ data: { node_id: "1", executed: [] } });
    const c = await queue(fake, workflows.empty, ws.clientId);
    await ws.waitFor(isDone(c));
    expect(errorOf(c)).toBeUndefined();
  });
});

describe("fake ComfyUI version modes", () => {
  it("0.3.14 assigns its own prompt_id and sends no progress_state; current honours both", async () => {
    for (const version of ["0.3.14", "current"] as const) {
      const fake = await fakeForTest({ version, stepsPerNode: { SaveImageWebsocket: 2 } });
      const ws = await socketForTest(fake);
      const wanted = randomUUID();
      const id = await queue(fake, workflows.progress, ws.clientId, { prompt_id: wanted });
      await ws.waitFor(isDone(id));
      const states = ws.frames.filter((f) => label(f) === "progress_state");
      if (version === "0.3.14") {
        expect(id).not.toBe(wanted);
        expect(states).toEqual([]);
      } else {
        expect(id).toBe(wanted);
        expect(states.at(-1)).toMatchObject({ data: { prompt_id: id, nodes: { "3": { value: 2, max: 2, state: "finished" } } } });
      }
    }
  });

  it("current: interrupt with another prompt_id leaves the running prompt alone; 0.3.14 ignores the id", async () => {
    for (const version of ["0.3.14", "current"] as const) {
      const fake = await fakeForTest({ version, nodeDelayMs: { ImageBlur: 150 } });
      const ws = await socketForTest(fake);
      const id = await queue(fake, workflows.interrupt, ws.clientId);
      await ws.waitFor((f) => label(f) === "executing:2");
      await fetch(`${fake.url}/interrupt`, { method: "POST", body: JSON.stringify({ prompt_id: "someone-else" }) });
      await ws.waitFor(isDone(id));
      const interrupted = ws.frames.some((f) => label(f) === "execution_interrupted");
      expect(interrupted, version).toBe(version === "0.3.14");
    }
  });

  it("previews knob: KSampler progress frames get a preview only when enabled", async () => {
    const txt2img = {
      "4": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: "v1-5-pruned-emaonly.safetensors" } },
      "5": { class_type: "EmptyLatentImage", inputs: { width: 64, height: 64, batch_size: 1 } },
      "6": { class_type: "CLIPTextEncode", inputs: { text: "a cat", clip: ["4", 1] } },
      "7": { class_type: "CLIPTextEncode", inputs: { text: "", clip: ["4", 1] } },
      "3": { class_type: "KSampler", inputs: { model: ["4", 0], seed: 1, steps: 3, cfg: 7, sampler_name: "euler", scheduler: "normal", positive: ["6", 0], negative: ["7", 0], latent_image: ["5", 0], denoise: 1 } },
      "8": { class_type: "VAEDecode", inputs: { samples: ["3", 0], vae: ["4", 2] } },
      "9": { class_type: "SaveImage", inputs: { images: ["8", 0], filename_prefix: "txt2img" } },
    };
    for (const previews of [false, true]) {
      const fake = await fakeForTest({ previews });
      const ws = await socketForTest(fake);
      const id = await queue(fake, txt2img, ws.clientId);
      await ws.waitFor(isDone(id));
      const seq = ws.frames.map(label).filter((l) => l === "progress" || l === "BINARY");
      expect(seq).toEqual(previews ? ["progress", "BINARY", "progress", "BINARY", "progress", "BINARY"] : ["progress", "progress", "progress"]);
      expect(fake.getOutput("txt2img_00001_.png")?.byteLength).toBeGreaterThan(50);
    }
  });
});
