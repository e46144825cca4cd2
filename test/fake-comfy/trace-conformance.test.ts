import { describe, expect, it } from "vitest";
import { fakeForTest, queue, socketForTest, tracedWorkflows } from "./helpers.ts";
import { keysOf, promptIds, promptSequence, readWsTrace } from "./traces.ts";
import { isDone, label } from "./ws-recorder.ts";

const three = readWsTrace("ws-three-prompts-queued.jsonl");
const [traceProgress, traceInvert, traceEmpty, traceError, traceInterrupt] = promptIds(three);
const workflows = tracedWorkflows();

describe("fake ComfyUI message order matches the 0.3.14 traces", () => {
  it("minimal run: the whole socket sequence of ws-invert-fast, status counts included", async () => {
    const fake = await fakeForTest();
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.invert, ws.clientId);
    await ws.waitFor(isDone(id));
    const trace = readWsTrace("ws-invert-fast.jsonl");
    expect(ws.frames.map(label)).toEqual(trace.map(label));
    const counts = (frames: typeof trace) => frames.flatMap((f) => (f.kind === "json" && f.type === "status" ? [JSON.stringify(f.data.status)] : []));
    expect(counts(ws.frames)).toEqual(counts(trace));
    for (const type of new Set(trace.map((f) => (f.kind === "json" ? f.type : "")))) {
      if (type !== "") expect(keysOf(ws.frames, type), type).toEqual(keysOf(trace, type));
    }
  });

  it("progress run: progress each followed by a PNG preview frame, as in the traced prompt", async () => {
    const fake = await fakeForTest();
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.progress, ws.clientId);
    await ws.waitFor(isDone(id));
    expect(promptSequence(ws.frames, id)).toEqual(promptSequence(three, traceProgress ?? ""));
    const binary = ws.frames.filter((f) => f.kind === "binary");
    expect(binary.every((f) => f.kind === "binary" && f.event === 1 && f.format === 2)).toBe(true);
    const first = binary[0];
    expect(first?.kind === "binary" && Buffer.from(first.bytes.subarray(0, 8)).toString("hex")).toBe("89504e470d0a1a0a");
    expect(keysOf(ws.frames, "progress")).toEqual(keysOf(three, "progress"));
    expect(keysOf(ws.frames, "executed")).toEqual(keysOf(three, "executed"));
  });

  it("three prompts back to back run in number order with the traced per-prompt sequences", async () => {
    const fake = await fakeForTest();
    const ws = await socketForTest(fake);
    const ids = [
      await queue(fake, workflows.progress, ws.clientId),
      await queue(fake, workflows.invert, ws.clientId),
      await queue(fake, workflows.empty, ws.clientId),
    ];
    await ws.waitFor(isDone(ids[2] ?? ""));
    expect(promptIds(ws.frames)).toEqual(ids);
    expect(promptSequence(ws.frames, ids[1] ?? "")).toEqual(promptSequence(three, traceInvert ?? ""));
    expect(promptSequence(ws.frames, ids[2] ?? "")).toEqual(promptSequence(three, traceEmpty ?? ""));
  });

  it("node failure: executing → execution_error (all traced fields) → status → executing null", async () => {
    const fake = await fakeForTest();
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.runtime_error, ws.clientId);
    await ws.waitFor(isDone(id));
    expect(promptSequence(ws.frames, id)).toEqual(promptSequence(three, traceError ?? ""));
    expect(keysOf(ws.frames, "execution_error")).toEqual(keysOf(three, "execution_error"));
    const tail = ws.frames.slice(-3).map(label);
    expect(tail).toEqual(["execution_error", "status", "executing:null"]);
  });

  it("interrupt: the running node finishes, the next one reports execution_interrupted", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageBlur: 200 } });
    const ws = await socketForTest(fake);
    const id = await queue(fake, workflows.interrupt, ws.clientId);
    await ws.waitFor((f) => label(f) === "executing:2");
    const res = await fetch(`${fake.url}/interrupt`, { method: "POST", signal: AbortSignal.timeout(2_000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    await ws.waitFor(isDone(id));
    expect(promptSequence(ws.frames, id)).toEqual(promptSequence(three, traceInterrupt ?? ""));
    expect(keysOf(ws.frames, "execution_interrupted")).toEqual(keysOf(three, "execution_interrupted"));
    // As with an error: execution_interrupted → status (queue −1) → executing null.
    expect(ws.frames.slice(-3).map(label)).toEqual(["execution_interrupted", "status", "executing:null"]);
    const interrupted = ws.frames.find((f) => label(f) === "execution_interrupted");
    expect(interrupted?.kind === "json" && interrupted.data).toMatchObject({ node_id: "3", node_type: "SaveImageWebsocket", executed: ["1", "2"] });
  });

  it("fully cached rerun: every node in execution_cached, no per-node executing, output nodes still executed", async () => {
    const fake = await fakeForTest();
    const ws = await socketForTest(fake);
    const first = await queue(fake, workflows.empty, ws.clientId);
    await ws.waitFor(isDone(first));
    const second = await queue(fake, workflows.empty, ws.clientId);
    await ws.waitFor(isDone(second));
    expect(promptSequence(ws.frames, second)).toEqual(["execution_start", "execution_cached", "executed", "execution_success", "executing:null"]);
    expect(ws.frames.slice(-3).map(label)).toEqual(["execution_success", "status", "executing:null"]);
    const cached = ws.frames.filter((f) => f.kind === "json" && f.type === "execution_cached" && f.data.prompt_id === second)[0];
    expect(cached?.kind === "json" && cached.data.nodes).toEqual(["1", "2"]);
    const outputs = ws.frames.filter((f) => f.kind === "json" && f.type === "executed").map((f) => (f.kind === "json" ? f.data.output : null));
    expect(outputs[1]).toEqual(outputs[0]);
  });
});
