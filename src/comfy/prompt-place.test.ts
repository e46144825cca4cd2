import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tracesDir } from "../../test/fake-comfy/traces.ts";
import { aheadOf } from "./comfy-client.ts";
import { queueResponseSchema } from "./schemas.ts";

const traced = queueResponseSchema.parse(JSON.parse(readFileSync(`${tracesDir()}queue-while-running.json`, "utf8")));

describe("queue parsing and aheadOf", () => {
  it("parses the traced 5-tuples by position, with client ids", () => {
    expect(traced.running).toEqual([{ number: 0, promptId: "d31bb4f8-e4ab-4803-8975-c54385bd7bc2", clientId: "probe-d6f495d5" }]);
    expect(traced.pending.map((i) => i.number)).toEqual([1, 2]);
  });

  it("parses the 0.8.0 queue, whose extra_data adds create_time", () => {
    const current = queueResponseSchema.parse(JSON.parse(readFileSync(`${tracesDir("0.8.0")}queue.json`, "utf8")));
    expect(current.running).toEqual([{ number: 8, promptId: "fca6cdeb-e8aa-425e-8e72-2b88a27607c4", clientId: "x" }]);
    expect(aheadOf(current, "ce39d4d1-dc53-43d7-8d69-b82a19a48ac1")).toMatchObject({ running: false, ahead: 2 });
  });

  it("tolerates extra tuple elements and missing extra_data", () => {
    const q = queueResponseSchema.parse({ queue_running: [], queue_pending: [[7, "a", {}, {}, ["1"], { new: true }, 42], [3, "b"]] });
    expect(q.pending).toEqual([{ number: 7, promptId: "a" }, { number: 3, promptId: "b" }]);
  });

  it("counts running + pending with a lower number, whatever the list order", () => {
    const q = queueResponseSchema.parse({
      queue_running: [[5, "run", {}, {}, []]],
      queue_pending: [[9, "late", {}, {}, []], [6, "first", {}, {}, []], [8, "mine", {}, {}, []]],
    });
    expect(aheadOf(q, "mine")).toEqual({ running: false, ahead: 2, pendingAhead: 1 });
    expect(aheadOf(q, "first")).toEqual({ running: false, ahead: 1, pendingAhead: 0 });
    expect(aheadOf(q, "run")).toEqual({ running: true, ahead: 0, pendingAhead: 0 });
    expect(aheadOf(q, "gone")).toBeNull();
    expect(aheadOf(traced, "62121d61-1373-49be-9667-3845377bc156")).toMatchObject({ running: false, ahead: 2 });
  });
});
