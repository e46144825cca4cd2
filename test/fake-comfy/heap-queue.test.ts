import { describe, expect, it } from "vitest";
import { aheadOf, ComfyClient } from "../../src/comfy/comfy-client.ts";
import { heapify, heapPop, heapPush } from "./heap-queue.ts";
import { fakeForTest, queue, socketForTest, tracedWorkflows } from "./helpers.ts";
import { isDone } from "./ws-recorder.ts";

const workflows = tracedWorkflows();
const numbers = (items: { number: number }[]) => items.map((i) => i.number);

describe("the fake's pending queue is a heap like ComfyUI's", () => {
  it("follows Python heapq: push keeps order, pop and heapify leave heap order", () => {
    const heap: { number: number }[] = [];
    for (let n = 0; n < 7; n++) heapPush(heap, { number: n });
    expect(numbers(heap)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(heapPop(heap)?.number).toBe(0);
    // heapq.heappop on [0..6] gives [1, 3, 2, 6, 4, 5] (checked against CPython).
    expect(numbers(heap)).toEqual([1, 3, 2, 6, 4, 5]);
    heap.splice(1, 1);
    heapify(heap);
    expect(numbers(heap)).toEqual([1, 2, 6, 4, 5]);
    const drained: number[] = [];
    for (let item = heapPop(heap); item !== null; item = heapPop(heap)) drained.push(item.number);
    expect(drained).toEqual([1, 2, 4, 5, 6]);
  });

  it("/queue lists pending in heap order, runs by number, and aheadOf counts by number only", async () => {
    const fake = await fakeForTest({ paused: true, nodeDelayMs: { ImageBlur: 400 } });
    const ws = await socketForTest(fake);
    const ids = [await queue(fake, workflows.progress, ws.clientId)];
    for (let i = 0; i < 6; i++) ids.push(await queue(fake, { ...workflows.empty, "1": { class_type: "EmptyImage", inputs: { width: 4, height: 4, batch_size: 1, color: i } } }, ws.clientId));
    fake.setOptions({ paused: false });
    await ws.waitFor((f) => f.kind === "json" && f.type === "execution_start");
    const client = new ComfyClient({ baseUrl: fake.url });
    const state = await client.getQueue();
    expect(numbers(state.running)).toEqual([0]);
    expect(numbers(state.pending)).toEqual([1, 3, 2, 6, 4, 5]);
    for (const [n, id] of ids.entries()) {
      expect(aheadOf(state, id), `number ${n}`).toEqual(n === 0 ? { running: true, ahead: 0, pendingAhead: 0 } : { running: false, ahead: n, pendingAhead: n - 1 });
    }
    await ws.waitFor(isDone(ids[6] ?? ""), 10_000);
    const started = ws.frames.flatMap((f) => (f.kind === "json" && f.type === "execution_start" ? [String(f.data.prompt_id)] : []));
    expect(started).toEqual(ids);
  });
});
