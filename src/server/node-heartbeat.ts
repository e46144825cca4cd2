import type { WebSocket, WebSocketServer } from "ws";

/**
 * Ping/pong for Node's sockets: a client that did not answer the previous ping is dropped, so dead
 * connections do not hold subscriptions. (Bun pings by itself: `sendPings` with `idleTimeout`.)
 */
export function startHeartbeat(wss: WebSocketServer, intervalMs = 30_000): () => void {
  const alive = new WeakMap<WebSocket, boolean>();
  wss.on("connection", (socket) => {
    alive.set(socket, true);
    socket.on("pong", () => alive.set(socket, true));
  });
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
