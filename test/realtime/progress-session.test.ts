import { describe, expect, it } from "vitest";
import { TaskHub } from "../../src/realtime/task-hub.ts";
import { taskKey } from "../../src/realtime/task-key.ts";
import { memoryLogger } from "../../src/lib/logger.ts";
import { ProgressSession, type TaskReader } from "../../src/realtime/progress-session.ts";
import { maxBadMessages, maxSubscriptionsPerSocket } from "../../src/realtime/ws-protocol.ts";
import type { TaskRow } from "../../src/schema/index.ts";
import { fakeSocket } from "./fake-socket.ts";

const photo = (id: string, status: TaskRow["status"]): TaskRow => ({ id, status, outputUrls: [`http://x/${id}.png`], error: null }) as Partial<TaskRow> as TaskRow;

/** A row reader whose answers the test hands out one by one, in the order they were asked for. */
function pendingReader() {
  const pending: Array<{ id: string; answer: (photo: TaskRow | undefined) => void; fail: (error: Error) => void }> = [];
  const reader: TaskReader = {
    getTask: (id) => new Promise((answer, fail) => pending.push({ id, answer, fail })),
  };
  return { reader, pending };
}

function session(reader: TaskReader) {
  const fake = fakeSocket();
  const hub = new TaskHub();
  const logger = memoryLogger();
  return { ...fake, hub, logger, session: new ProgressSession(fake.socket, "logo", reader, hub, false, logger) };
}

describe("ProgressSession: subscribe / unsubscribe while the row read is pending", () => {
  it("a stale read does not answer for, or end, the subscription that replaced it", async () => {
    const { reader, pending } = pendingReader();
    const { session: s, messages, hub } = session(reader);
    // subscribe() is what a subscribe message runs; its promise resolves once the read is handled.
    const stale = s.subscribe("t1", false);
    s.receive(JSON.stringify({ type: "unsubscribe", taskId: "t1" }));
    const live = s.subscribe("t1", false);
    expect(pending).toHaveLength(2);

    // The first read finds the task finished: that call was unsubscribed and must stay silent.
    pending[0]!.answer(photo("t1", "succeeded"));
    await stale;
    expect(messages()).toEqual([]);
    expect(s.size).toBe(1);

    // The second subscription is the live one: it gets its answer and the single final message.
    pending[1]!.answer(photo("t1", "running"));
    await live;
    hub.publish(taskKey("logo", "t1"), { type: "succeeded", taskId: "t1", outputUrls: ["u"] });
    expect(messages().map((m) => m.type)).toEqual(["subscribed", "succeeded"]);
    expect(s.size).toBe(0);
    expect(hub.size).toBe(0);
  });

  it("no `subscribed` after an unsubscribe", async () => {
    const { reader, pending } = pendingReader();
    const { session: s, messages } = session(reader);
    const subscribed = s.subscribe("t1", false);
    s.receive(JSON.stringify({ type: "unsubscribe", taskId: "t1" }));
    pending[0]!.answer(photo("t1", "running"));
    await subscribed;
    expect(messages()).toEqual([]);
  });

  it("a final that comes through the hub during the read is the only final", async () => {
    const { reader, pending } = pendingReader();
    const { session: s, messages, hub } = session(reader);
    const subscribed = s.subscribe("t1", false);
    hub.publish(taskKey("logo", "t1"), { type: "succeeded", taskId: "t1", outputUrls: ["u"] });
    pending[0]!.answer(photo("t1", "succeeded"));
    await subscribed;
    expect(messages().map((m) => m.type)).toEqual(["succeeded"]);
  });
});

describe("ProgressSession: bounds on what one socket may ask", () => {
  it(`follows at most ${maxSubscriptionsPerSocket} tasks at once`, () => {
    const { reader, pending } = pendingReader();
    const { session: s, messages, calls } = session(reader);
    for (let i = 0; i <= maxSubscriptionsPerSocket; i++) s.receive(JSON.stringify({ type: "subscribe", taskId: `t${i}` }));
    expect(pending).toHaveLength(maxSubscriptionsPerSocket);
    expect(s.size).toBe(maxSubscriptionsPerSocket);
    expect(messages()).toEqual([{ type: "error", code: "bad_message", taskId: `t${maxSubscriptionsPerSocket}`, message: expect.stringContaining("At most") }]);
    // Re-subscribing to a followed task is not a new subscription; leaving one makes room.
    s.receive(JSON.stringify({ type: "subscribe", taskId: "t0" }));
    s.receive(JSON.stringify({ type: "unsubscribe", taskId: "t0" }));
    s.receive(JSON.stringify({ type: "subscribe", taskId: "new" }));
    expect(pending.at(-1)?.id).toBe("new");
    expect(calls.filter((c) => c.kind === "close")).toEqual([]);
  });

  it(`answers bad messages through the sender and closes (4400) after ${maxBadMessages}`, () => {
    const { reader } = pendingReader();
    const { session: s, raw, messages, calls } = session(reader);
    s.receive("not json");
    expect(messages()).toEqual([{ type: "error", code: "bad_message", message: expect.any(String) }]);
    // Past the hard bound the sender refuses: an error reply cannot grow the backlog further.
    raw.bufferedAmount = 64 * 1024 * 1024;
    s.receive("{}");
    expect(calls.slice(1)).toEqual([{ kind: "close", code: 4408, reason: "client too slow" }, { kind: "terminate" }]);

    const fresh = session(reader);
    for (let i = 0; i < maxBadMessages; i++) fresh.session.receive(JSON.stringify({ type: "subscribe" }));
    expect(fresh.messages()).toHaveLength(maxBadMessages);
    expect(fresh.calls.at(-1)).toEqual({ kind: "close", code: 4400, reason: "bad request" });
  });

  it("a database error is `unavailable` and 1011, not `not_found`", async () => {
    const { reader, pending } = pendingReader();
    const { session: s, messages, calls, hub, logger } = session(reader);
    const subscribed = s.subscribe("t1", true);
    pending[0]!.fail(new Error("connect ECONNREFUSED"));
    await subscribed;
    expect(logger.entries).toEqual([expect.objectContaining({ level: "warn", fields: expect.objectContaining({ taskId: "t1", error: expect.stringContaining("ECONNREFUSED") }) })]);
    expect(messages()).toEqual([{ type: "error", code: "unavailable", taskId: "t1", message: expect.stringContaining("logo") }]);
    expect(calls.at(-1)).toEqual({ kind: "close", code: 1011, reason: "database unavailable" });
    expect(hub.size).toBe(0);
  });
});
