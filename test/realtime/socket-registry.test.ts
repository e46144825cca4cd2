import { describe, expect, it, onTestFinished, vi } from "vitest";
import { SocketRegistry } from "../../src/realtime/socket-registry.ts";
import { fakeSocket } from "./fake-socket.ts";

describe("SocketRegistry at shutdown", () => {
  it("says 1001 to every socket, and at once to one that arrives after shutdown began", () => {
    const registry = new SocketRegistry();
    const early = fakeSocket();
    expect(registry.add(early.socket)).toBe(true);
    registry.closeAll(1001, "server shutting down", 60_000);
    expect(early.calls).toEqual([{ kind: "close", code: 1001, reason: "server shutting down" }]);

    const late = fakeSocket();
    expect(registry.add(late.socket)).toBe(false);
    expect(late.calls).toEqual([{ kind: "close", code: 1001, reason: "server shutting down" }]);
    expect(registry.closing).toBe(true);
  });

  it("drops the sockets that have not finished closing after the grace period, not before", () => {
    // The grace timer is the behaviour under test: fake timers step it exactly.
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    const registry = new SocketRegistry();
    const polite = fakeSocket();
    const stuck = fakeSocket();
    registry.add(polite.socket);
    registry.add(stuck.socket);
    registry.closeAll(1001, "bye", 20);
    // The polite peer answers the close: its close handler removes it from the registry.
    registry.delete(polite.socket);
    vi.advanceTimersByTime(19);
    expect(stuck.calls.map((c) => c.kind)).toEqual(["close"]);
    vi.advanceTimersByTime(1);
    expect(polite.calls.map((c) => c.kind)).toEqual(["close"]);
    expect(stuck.calls.map((c) => c.kind)).toEqual(["close", "terminate"]);
    expect(registry.size).toBe(0);
  });
});
