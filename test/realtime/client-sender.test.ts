import { describe, expect, it } from "vitest";
import type { TaskEvent } from "../../src/realtime/task-events.ts";
import { ClientSender } from "../../src/realtime/client-sender.ts";
import { fakeSocket } from "./fake-socket.ts";

const limits = { softBytes: 1_000, hardBytes: 10_000 };
const progress = (taskId: string, value: number): TaskEvent => ({ type: "progress", taskId, node: "3", value, max: 10, percent: value * 10 });

describe("ClientSender: one client's bounds", () => {
  it("sends everything in order while the client keeps up", () => {
    const { socket, messages } = fakeSocket();
    const sender = new ClientSender(socket, limits);
    for (let value = 1; value <= 3; value++) sender.send(progress("a", value));
    sender.send({ type: "succeeded", taskId: "a", outputUrls: ["u"] });
    expect(messages().map((m) => m.value ?? m.type)).toEqual([1, 2, 3, "succeeded"]);
    expect(sender.dropped).toBe(0);
  });

  it("above softBytes keeps only the latest progress per task and counts what it dropped", () => {
    const { socket, raw, messages } = fakeSocket();
    const sender = new ClientSender(socket, limits);
    raw.bufferedAmount = 5_000;
    for (let value = 1; value <= 5; value++) sender.send(progress("a", value));
    sender.send({ type: "executing", taskId: "b", node: "7" });
    expect(messages()).toEqual([]);
    expect(sender.dropped).toBe(4);

    // The backlog drains; the next message of a task first delivers what was held back for it.
    raw.bufferedAmount = 0;
    sender.send({ type: "succeeded", taskId: "a", outputUrls: ["u"] });
    expect(messages()).toEqual([progress("a", 5), { type: "succeeded", taskId: "a", outputUrls: ["u"] }]);
    sender.send(progress("b", 1));
    expect(messages().slice(2)).toEqual([{ type: "executing", taskId: "b", node: "7" }, progress("b", 1)]);
  });

  it("sends final and other non-progress messages even while the client is behind", () => {
    const { socket, raw, messages } = fakeSocket();
    const sender = new ClientSender(socket, limits);
    raw.bufferedAmount = 5_000;
    sender.send(progress("a", 1));
    sender.send({ type: "queued", taskId: "b", ahead: 2 });
    sender.send({ type: "failed", taskId: "a", message: "boom", node: null });
    expect(messages().map((m) => `${m.type}:${String(m.taskId)}`)).toEqual(["queued:b", "progress:a", "failed:a"]);
  });

  it("forgets what it held back for a task the client left", () => {
    const { socket, raw, messages } = fakeSocket();
    const sender = new ClientSender(socket, limits);
    raw.bufferedAmount = 5_000;
    sender.send(progress("a", 1));
    sender.forget("a");
    raw.bufferedAmount = 0;
    sender.send({ type: "cancelled", taskId: "a" });
    expect(messages()).toEqual([{ type: "cancelled", taskId: "a" }]);
  });

  it("drops previews above softBytes", () => {
    const { socket, raw, calls } = fakeSocket();
    const sender = new ClientSender(socket, limits);
    sender.sendPreview("a", "png", new Uint8Array(10));
    raw.bufferedAmount = 5_000;
    sender.sendPreview("a", "png", new Uint8Array(10));
    expect(calls).toEqual([{ kind: "binary", bytes: 2 + 1 + 10 }]);
    expect(sender.dropped).toBe(1);
  });

  it("past hardBytes closes with 4408, drops the connection at once, and sends nothing more", () => {
    const { socket, raw, calls } = fakeSocket();
    const sender = new ClientSender(socket, limits);
    raw.bufferedAmount = 20_000;
    sender.send({ type: "succeeded", taskId: "a", outputUrls: [] });
    expect(calls).toEqual([{ kind: "close", code: 4408, reason: "client too slow" }, { kind: "terminate" }]);
    sender.send({ type: "succeeded", taskId: "a", outputUrls: [] });
    sender.sendPreview("a", "png", new Uint8Array(1));
    expect(calls).toHaveLength(2);
  });
});
