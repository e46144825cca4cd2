import { describe, expect, it } from "vitest";
import { fakeForTest, queue, socketForTest, tracedWorkflows } from "./helpers.ts";
import { keysOf, promptIds, readWsTrace } from "./traces.ts";
import { isDone, type Recorded } from "./ws-recorder.ts";

// The 0.8.0 trace: socket `x` sent nothing, socket `xff` sent feature_flags first. Prompt ids by phase.
const plain = readWsTrace("ws-trace.jsonl", "0.8.0", "x");
const flagged = readWsTrace("ws-trace.jsonl", "0.8.0", "xff");
const [, traceCachedRerun, traceInvert, traceProgress] = promptIds(plain);
// The first `empty` run's id was reused at the end of the recording; this later run ran uncached too.
const traceEmpty = "34ddfe76-c6a2-4506-89ff-51e6f315a4fa";
const traceProgressFlagged = promptIds(flagged)[0] ?? "";
const traceError = "4b988031-83f0-4e69-b297-21467a9bb54c";
const traceInterrupt = "44d37453-2c5f-404c-a8e7-a1b7cb30f261";
const workflows = tracedWorkflows();
const flags = { supports_preview_metadata: true };

/** One frame as a detailed label: node states of progress_state, values of progress, event of binary frames. */
function detail(frame: Recorded): string {
  if (frame.kind === "binary") return `BINARY:${frame.event}`;
  const d = frame.data;
  if (frame.type === "executing") return `executing:${String(d.node)}`;
  if (frame.type === "progress") return `progress:${String(d.node)}:${String(d.value)}/${String(d.max)}`;
  if (frame.type === "execution_cached") return `execution_cached:${String(d.nodes)}`;
  if (frame.type !== "progress_state") return frame.type;
  const nodes = Object.entries(d.nodes as Record<string, { value: number; max: number; state: string }>);
  return `progress_state:${nodes.map(([id, n]) => `${id}=${n.value}/${n.max}:${n.state}`).join(",")}`;
}

/** A prompt's frames (its JSON messages and the binary frames inside its run), in detail. */
function sequence(frames: Recorded[], promptId: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const f of frames) {
    const mine = f.kind === "json" && f.data.prompt_id === promptId;
    if (mine && f.type === "execution_start") inside = true;
    if (mine || (inside && f.kind === "binary")) out.push(detail(f));
    if (mine && f.type === "executing" && f.data.node === null) inside = false;
  }
  return out;
}

/** Key sets of the first message of `type` and of its first node state, for shape comparisons. */
function shapes(frames: Recorded[], type: string): string[][] {
  const hit = frames.find((f) => f.kind === "json" && f.type === type);
  if (hit?.kind !== "json") return [];
  const nodes = hit.data.nodes;
  const first = typeof nodes === "object" && nodes !== null && !Array.isArray(nodes) ? Object.values(nodes)[0] : undefined;
  return [Object.keys(hit.data).sort(), Object.keys((first ?? {}) as object).sort()];
}

describe("fake ComfyUI `current` mode matches the 0.8.0 trace", () => {
  it("a plain client: the traced invert run, progress_state before each executing and after each executed", async () => {
    const fake = await fakeForTest({ version: "current" });
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.invert, ws.clientId);
    await ws.waitFor(isDone(id));
    expect(sequence(ws.frames, id)).toEqual(sequence(plain, traceInvert ?? ""));
    for (const type of ["progress_state", "executing", "executed", "execution_start", "execution_success"]) {
      expect(shapes(ws.frames, type), type).toEqual(shapes(plain, type));
    }
  });

  it("a plain client: progress, each followed by a PNG preview as event 1, as in 0.3.14", async () => {
    const fake = await fakeForTest({ version: "current" });
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.progress, ws.clientId);
    await ws.waitFor(isDone(id));
    expect(sequence(ws.frames, id)).toEqual(sequence(plain, traceProgress ?? ""));
    expect(keysOf(ws.frames, "progress")).toEqual(keysOf(plain, "progress"));
    expect(ws.frames.filter((f) => f.kind === "binary").every((f) => f.kind === "binary" && f.format === 2)).toBe(true);
  });

  it("a client that sent feature_flags gets the server's flags, and previews as event 4 with metadata before each progress", async () => {
    const fake = await fakeForTest({ version: "current" });
    const ws = await socketForTest(fake, undefined, flags);
    const welcome = ws.frames.map((f) => (f.kind === "json" ? f.type : "BINARY"));
    expect(welcome).toEqual(["status", "feature_flags"]);
    const answer = ws.frames[1];
    const traced = flagged.find((f) => f.kind === "json" && f.type === "feature_flags");
    expect(answer?.kind === "json" && answer.data).toEqual(traced?.kind === "json" && traced.data);
    const id = await queue(fake, workflows.progress, ws.clientId);
    await ws.waitFor(isDone(id));
    expect(sequence(ws.frames, id)).toEqual(sequence(flagged, traceProgressFlagged));
    const preview = ws.frames.find((f) => f.kind === "binary");
    const tracedPreview = flagged.find((f) => f.kind === "binary");
    const metadataOf = (f: Recorded | undefined) => (f?.kind === "binary" ? (f.metadata ?? {}) : {});
    expect(Object.keys(metadataOf(preview)).sort()).toEqual(Object.keys(metadataOf(tracedPreview)).sort());
    expect(metadataOf(preview)).toMatchObject({ prompt_id: id, node_id: "3", image_type: "image/png" });
    expect(preview?.kind === "binary" && Buffer.from(preview.bytes.subarray(0, 4)).toString("hex")).toBe("89504e47");
  });

  it("an identical rerun: every node cached, the output node executed and reported finished", async () => {
    const fake = await fakeForTest({ version: "current" });
    const ws = await socketForTest(fake);
    const first = await queue(fake, workflows.empty, ws.clientId);
    await ws.waitFor(isDone(first));
    const second = await queue(fake, workflows.empty, ws.clientId);
    await ws.waitFor(isDone(second));
    expect(sequence(ws.frames, first)).toEqual(sequence(plain, traceEmpty));
    expect(sequence(ws.frames, second)).toEqual(sequence(plain, traceCachedRerun ?? ""));
  });

  it("node failure: the node's running state, executing, then execution_error with the traced fields", async () => {
    const fake = await fakeForTest({ version: "current" });
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.runtime_error, ws.clientId);
    await ws.waitFor(isDone(id));
    expect(sequence(ws.frames, id)).toEqual(sequence(plain, traceError));
    expect(keysOf(ws.frames, "execution_error")).toEqual(keysOf(plain, "execution_error"));
  });

  it("interrupt by another prompt's id does nothing; by its own id it stops at the next node", async () => {
    const fake = await fakeForTest({ version: "current", nodeDelayMs: { ImageBlur: 1_500 } });
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.interrupt, ws.clientId);
    await ws.waitFor((f) => f.kind === "json" && f.type === "executing" && f.data.node === "2");
    const interrupt = (promptId: string) =>
      fetch(`${fake.url}/interrupt`, { method: "POST", body: JSON.stringify({ prompt_id: promptId }), signal: AbortSignal.timeout(2_000) });
    expect(await (await interrupt("someone-else")).text()).toBe("");
    expect((await interrupt(id)).status).toBe(200);
    await ws.waitFor(isDone(id));
    expect(sequence(ws.frames, id)).toEqual(sequence(plain, traceInterrupt));
    expect(keysOf(ws.frames, "execution_interrupted")).toEqual(keysOf(plain, "execution_interrupted"));
  });
});
