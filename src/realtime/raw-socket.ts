import type { WSContext } from "hono/ws";

// What hono's WSContext does not expose but slow or dead clients need: the runtime's own socket.
// `ws` (Node) and Bun's ServerWebSocket differ, so each capability is looked up, never assumed.

interface RawSocketLike {
  bufferedAmount?: unknown;
  getBufferedAmount?: () => number;
  terminate?: () => void;
}

function rawOf(socket: WSContext): RawSocketLike | undefined {
  const raw: unknown = socket.raw;
  return typeof raw === "object" && raw !== null ? (raw as RawSocketLike) : undefined;
}

/**
 * Bytes queued on a client socket and not yet written to the network. `ws` (Node) exposes
 * `bufferedAmount`, Bun's ServerWebSocket `getBufferedAmount()`; anything else counts as 0.
 */
export function bufferedAmount(socket: WSContext): number {
  const raw = rawOf(socket);
  if (!raw) return 0;
  if (typeof raw.getBufferedAmount === "function") return raw.getBufferedAmount();
  return typeof raw.bufferedAmount === "number" ? raw.bufferedAmount : 0;
}

/**
 * Drops the connection without waiting for the closing handshake. A close frame queued behind
 * megabytes of backlog would keep that backlog in memory until the peer reads it or a timeout
 * fires (~30 s in `ws`); both `ws` and Bun (>= 1.1) have `terminate()`. Falls back to `close()`.
 */
export function terminate(socket: WSContext): void {
  const raw = rawOf(socket);
  if (raw && typeof raw.terminate === "function") raw.terminate();
  else socket.close();
}
