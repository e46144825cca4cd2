import { describe, expect, it } from "vitest";
import { encodeMetadataPreviewFrame, encodePreviewFrame } from "./binary-frame.ts";
import type { ComfyMessage } from "./events.ts";
import { FrameDecoder, type PreviewEvent } from "./frame-decoder.ts";
import type { QueueState } from "./schemas.ts";

const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
const metadataFor = (promptId: string) => ({ node_id: "3", prompt_id: promptId, display_node_id: "3", parent_node_id: null, real_node_id: "3", image_type: "image/png" });

function decoder() {
  const previews: PreviewEvent[] = [];
  const frames = new FrameDecoder({ clientId: "c", emit: (event) => event.type === "preview" && previews.push(event) });
  return { frames, previews };
}

describe("FrameDecoder preview attribution", () => {
  it("an event 4 preview belongs to the prompt its metadata names, whatever runs now", () => {
    const { frames, previews } = decoder();
    frames.push(JSON.stringify({ type: "execution_start", data: { prompt_id: "running-now" } }));
    frames.push(encodeMetadataPreviewFrame(metadataFor("named"), png));
    expect(previews.map((p) => p.promptId)).toEqual(["named"]);
  });

  it("an event 4 preview is attributed even when nothing is known to run (after a reconnect)", () => {
    const { frames, previews } = decoder();
    frames.reset();
    frames.push(encodeMetadataPreviewFrame(metadataFor("named"), png));
    expect(previews).toEqual([{ type: "preview", promptId: "named", format: "png", bytes: png }]);
  });

  it("an event 1 preview belongs to the prompt executing when it came", () => {
    const { frames, previews } = decoder();
    frames.push(JSON.stringify({ type: "execution_start", data: { prompt_id: "running-now" } }));
    frames.push(encodePreviewFrame("png", png));
    frames.reset();
    frames.push(encodePreviewFrame("png", png));
    expect(previews.map((p) => p.promptId)).toEqual(["running-now", null]);
  });
});

/** A decoder whose /queue read the test answers; `emitted` resolves at the first event. */
function attributing() {
  const events: Array<ComfyMessage | PreviewEvent> = [];
  let answer!: (queue: QueueState) => void;
  const queue = new Promise<QueueState>((resolve) => (answer = resolve));
  let first!: () => void;
  const emitted = new Promise<void>((resolve) => (first = resolve));
  const frames = new FrameDecoder({ clientId: "c", readQueue: () => queue, emit: (event) => (events.push(event), first()) });
  let controlDone!: () => void;
  const controlEmitted = new Promise<void>((resolve) => (controlDone = resolve));
  return { frames, events, answer, emitted, queue, controlDone, controlEmitted };
}

const runningOf = (promptId: string, clientId: string) => ({ running: [{ number: 1, promptId, clientId }], pending: [] }) as unknown as QueueState;
const reannounced = JSON.stringify({ type: "executing", data: { node: "3" } });

describe("FrameDecoder: the executing re-sent without its prompt after a reconnect", () => {
  it("is named from /queue, and the frames behind it wait and follow it in order, attributed alike", async () => {
    const { frames, events, answer, emitted } = attributing();
    frames.push(reannounced);
    frames.push(encodePreviewFrame("png", png));
    frames.push(JSON.stringify({ type: "execution_cached", data: { nodes: [], prompt_id: "p1" } }));
    expect(events).toEqual([]);
    answer(runningOf("p1", "c"));
    await emitted;
    expect(events).toEqual([
      { type: "executing", data: { node: "3", prompt_id: "p1" } },
      { type: "preview", promptId: "p1", format: "png", bytes: png },
      expect.objectContaining({ type: "execution_cached" }),
    ]);
  });

  it("is passed on without a prompt when /queue runs another client's prompt (ours ended meanwhile)", async () => {
    const { frames, events, answer, emitted } = attributing();
    frames.push(reannounced);
    frames.push(encodePreviewFrame("png", png));
    answer(runningOf("p9", "someone-else"));
    await emitted;
    expect(events).toEqual([
      { type: "executing", data: { node: "3" } },
      { type: "preview", promptId: null, format: "png", bytes: png },
    ]);
  });
});

describe("FrameDecoder: what does not wait for /queue", () => {
  it("a message other than executing is passed on at once, without reading /queue", () => {
    let reads = 0;
    const events: unknown[] = [];
    const frames = new FrameDecoder({ clientId: "c", readQueue: () => (reads++, new Promise<QueueState>(() => undefined)), emit: (event) => events.push(event) });
    frames.push(JSON.stringify({ type: "status", data: { status: { exec_info: { queue_remaining: 1 } } } }));
    expect(events).toEqual([expect.objectContaining({ type: "status" })]);
    expect(reads).toBe(0);
  });

  it("without a queue reader the re-sent executing is passed on at once, as it came", () => {
    const events: unknown[] = [];
    const frames = new FrameDecoder({ clientId: "c", emit: (event) => events.push(event) });
    frames.push(reannounced);
    expect(events).toEqual([{ type: "executing", data: { node: "3" } }]);
  });

  it("stopped while /queue is read, it emits nothing, not even the frames held", async () => {
    const stopped = attributing();
    // A second decoder waits on the same answer, after the first: once it has emitted, the first is done.
    const control = new FrameDecoder({ clientId: "c", readQueue: () => stopped.queue, emit: () => stopped.controlDone() });
    stopped.frames.push(reannounced);
    stopped.frames.push(encodePreviewFrame("png", png));
    control.push(reannounced);
    stopped.frames.stop();
    stopped.answer(runningOf("p1", "c"));
    await stopped.controlEmitted;
    expect(stopped.events).toEqual([]);
  });
});

describe("FrameDecoder frame kinds", () => {
  it("decodes a preview from an ArrayBuffer and from any byte view, and ignores other data", () => {
    const { frames, previews } = decoder();
    const frame = encodePreviewFrame("jpeg", png);
    frames.push(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength));
    frames.push(Buffer.concat([Buffer.from([0xff]), Buffer.from(frame)]).subarray(1));
    frames.push(42);
    frames.push("not json");
    expect(previews).toEqual([
      { type: "preview", promptId: null, format: "jpeg", bytes: png },
      { type: "preview", promptId: null, format: "jpeg", bytes: png },
    ]);
  });
});
