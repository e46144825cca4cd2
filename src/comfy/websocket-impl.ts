import { WebSocket as NodeWebSocket } from "ws";

/** The subset of the browser WebSocket API the event stream needs (met by globals and by `ws`). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(code?: number, reason?: string): void;
  send(data: string): void;
}

/** A WebSocket constructor: the global one (Bun, Node 22+) or `ws` (Node 20). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * Picks the runtime's WebSocket: Node 20 has no global one unless flagged, so fall back to `ws`,
 * whose client follows the same event-handler API.
 */
export function defaultWebSocketImpl(): WebSocketConstructor {
  const globalImpl = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof globalImpl === "function") return globalImpl as WebSocketConstructor;
  return NodeWebSocket as unknown as WebSocketConstructor;
}
