import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { defaultAuthHeaders } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { spawnGateway, type Runtime } from "../support/spawn-gateway.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

/** Opens a socket; `autoPong: false` makes it a peer that never answers pings (a dead client). */
async function connect(url: string, autoPong: boolean) {
  const socket = new WebSocket(url, { autoPong, headers: defaultAuthHeaders(url) });
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return { socket, closed };
}

// Node pings every WS_HEARTBEAT_MS; Bun (uWebSockets, ~4 s timer granularity) closes sockets
// idle for twice that, answering its own pings keeps them alive.
const runtimes: Array<{ runtime: Runtime; heartbeatMs: number; withinMs: number }> = [
  { runtime: "node", heartbeatMs: 200, withinMs: 5_000 },
  { runtime: "bun", heartbeatMs: 1_000, withinMs: 15_000 },
];

describe.each(runtimes)("WebSocket heartbeat of the real gateway process on $runtime", ({ runtime, heartbeatMs, withinMs }) => {
  it("drops a socket that never answers pings and keeps one that does (WS_HEARTBEAT_MS)", async () => {
    const { env, cleanup } = sqlite.env();
    try {
      const gateway = await spawnGateway(runtime, { ...env, WS_HEARTBEAT_MS: String(heartbeatMs) });
      const url = `${gateway.url.replace("http", "ws")}/api/ws?frontend=logo`;
      const silent = await connect(url, false);
      const alive = await connect(url, true);
      // Dropped within a few intervals, far below the 30 s default (Node: 1006, no handshake).
      const outcome = await Promise.race([silent.closed, new Promise<string>((resolve) => setTimeout(() => resolve("still open"), withinMs))]);
      expect(outcome).toEqual(runtime === "node" ? 1006 : expect.any(Number));
      expect(alive.socket.readyState).toBe(WebSocket.OPEN);
      alive.socket.close();
      expect(await gateway.stop()).toBe(0);
    } finally {
      cleanup();
    }
  });
});
