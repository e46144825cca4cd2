import { describe, expect, it } from "vitest";
import { coalescedReader } from "./coalesced-reader.ts";

/** An upstream whose answers the test releases one by one; `calls` counts the requests it got. */
function upstream() {
  const pending: Array<{ resolve: (value: number) => void; reject: (error: Error) => void }> = [];
  let calls = 0;
  const read = () =>
    new Promise<number>((resolve, reject) => {
      calls += 1;
      pending.push({ resolve, reject });
    });
  return {
    read,
    calls: () => calls,
    answer: (index: number, value: number) => pending[index]!.resolve(value),
    fail: (index: number) => pending[index]!.reject(new Error("HTTP 500")),
  };
}

describe("a coalesced upstream read", () => {
  it("concurrent callers share one request and its answer", async () => {
    const up = upstream();
    const reader = coalescedReader(up.read, { maxAgeMs: 100, now: () => 0 });
    const both = Promise.all([reader.read(), reader.read()]);
    up.answer(0, 7);
    expect(await both).toEqual([7, 7]);
    expect(up.calls()).toBe(1);
  });

  it("reuses an answer younger than maxAgeMs, and asks again once it is that old", async () => {
    const up = upstream();
    let clock = 1_000;
    const reader = coalescedReader(up.read, { maxAgeMs: 100, now: () => clock });
    const first = reader.read();
    up.answer(0, 1);
    await first;
    clock += 99;
    expect(await reader.read()).toBe(1);
    expect(up.calls()).toBe(1);
    clock += 1;
    const second = reader.read();
    expect(up.calls()).toBe(2);
    up.answer(1, 2);
    expect(await second).toBe(2);
    // The newer answer replaced the old one.
    expect(await reader.read()).toBe(2);
    expect(up.calls()).toBe(2);
  });

  it("with notBefore, uses only an answer whose request started strictly after it", async () => {
    const up = upstream();
    let clock = 1_000;
    const reader = coalescedReader(up.read, { maxAgeMs: 10_000, now: () => clock });
    const first = reader.read();
    up.answer(0, 1);
    await first;
    expect(await reader.read(999)).toBe(1);
    expect(up.calls()).toBe(1);
    // Queued in the same millisecond as the request started: that answer may not list it.
    clock += 5;
    const fresh = reader.read(1_000);
    expect(up.calls()).toBe(2);
    // A request in flight that started after notBefore is shared.
    const shared = reader.read(1_004);
    expect(up.calls()).toBe(2);
    up.answer(1, 2);
    expect(await Promise.all([fresh, shared])).toEqual([2, 2]);
    // And one that started at notBefore or before is not.
    const again = reader.read(1_005);
    expect(up.calls()).toBe(3);
    up.answer(2, 3);
    expect(await again).toBe(3);
  });

  it("a failed read is not kept: the next caller asks again", async () => {
    const up = upstream();
    const reader = coalescedReader(up.read, { maxAgeMs: 10_000, now: () => 0 });
    const failing = reader.read();
    up.fail(0);
    await expect(failing).rejects.toThrow("HTTP 500");
    const next = reader.read();
    expect(up.calls()).toBe(2);
    up.answer(1, 4);
    expect(await next).toBe(4);
  });

  it("after invalidate() the next read asks again, and the answer in flight before it is not kept", async () => {
    const up = upstream();
    const reader = coalescedReader(up.read, { maxAgeMs: 10_000, now: () => 0 });
    const old = reader.read();
    reader.invalidate();
    const fresh = reader.read();
    expect(up.calls()).toBe(2);
    // The fresh answer comes first; the stale one, arriving after it, must not replace it.
    up.answer(1, 2);
    expect(await fresh).toBe(2);
    up.answer(0, 1);
    expect(await old).toBe(1);
    expect(await reader.read()).toBe(2);
    expect(up.calls()).toBe(2);
  });

  it.each([
    ["answering", (up: ReturnType<typeof upstream>) => up.answer(0, 1)],
    ["failing", (up: ReturnType<typeof upstream>) => up.fail(0)],
  ])("a request from before invalidate() %s does not drop the one in flight after it", async (_, end) => {
    const up = upstream();
    const reader = coalescedReader(up.read, { maxAgeMs: 10_000, now: () => 0 });
    const old = reader.read().catch(() => "failed");
    reader.invalidate();
    const fresh = reader.read();
    end(up);
    await old;
    const shared = reader.read();
    expect(up.calls()).toBe(2);
    up.answer(1, 2);
    expect(await Promise.all([fresh, shared])).toEqual([2, 2]);
  });

  it("a read failing after invalidate() rejects with its own error", async () => {
    const up = upstream();
    const reader = coalescedReader(up.read, { maxAgeMs: 10_000, now: () => 0 });
    const failing = reader.read();
    reader.invalidate();
    up.fail(0);
    await expect(failing).rejects.toThrow("HTTP 500");
  });

  it("an answer to a request started in the same millisecond replaces the one it refreshed", async () => {
    const up = upstream();
    const reader = coalescedReader(up.read, { maxAgeMs: 10_000, now: () => 1_000 });
    const first = reader.read();
    up.answer(0, 1);
    await first;
    const refreshed = reader.read(1_000);
    up.answer(1, 2);
    expect(await refreshed).toBe(2);
    expect(await reader.read()).toBe(2);
    expect(up.calls()).toBe(2);
  });

  it("a request in flight that started at notBefore is not shared", async () => {
    const up = upstream();
    const reader = coalescedReader(up.read, { maxAgeMs: 10_000, now: () => 1_000 });
    const first = reader.read();
    const after = reader.read(1_000);
    expect(up.calls()).toBe(2);
    up.answer(0, 1);
    up.answer(1, 2);
    expect(await Promise.all([first, after])).toEqual([1, 2]);
  });

  it("an older request answering last does not replace a newer answer", async () => {
    const up = upstream();
    let clock = 0;
    const reader = coalescedReader(up.read, { maxAgeMs: 10_000, now: () => clock });
    const older = reader.read();
    clock = 10;
    const newer = reader.read(5);
    expect(up.calls()).toBe(2);
    up.answer(1, 2);
    await newer;
    up.answer(0, 1);
    await older;
    expect(await reader.read()).toBe(2);
    expect(up.calls()).toBe(2);
  });
});
