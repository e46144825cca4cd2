import type { WSContext } from "hono/ws";

/**
 * Bytes queued on a client socket and not yet written to the network. `ws` (Node) exposes
 * `bufferedAmount`, Bun's ServerWebSocket `getBufferedAmount()`; anything else counts as 0.
 */
export function bufferedAmount(socket: WSContext): number {
  const raw = socket.raw as { bufferedAmount?: unknown; getBufferedAmount?: () => number } | undefined;
  if (!raw) return 0;
  if (typeof raw.getBufferedAmount === "function") return raw.getBufferedAmount();
  return typeof raw.bufferedAmount === "number" ? raw.bufferedAmount : 0;
}
