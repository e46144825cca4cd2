import type { FetchLike } from "../comfy/http.ts";
import type { WebSocketConstructor } from "../comfy/websocket-impl.ts";
import type { ServerEntryInput } from "./server-list.ts";

/** Timer functions, injectable so tests can drive the check loop. */
export interface PoolTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Pool configuration; everything but `servers` has a default. */
export interface ComfyPoolOptions {
  servers: ServerEntryInput[];
  /** Timeout of each health probe (DNS, TCP, API); default `checkTimeoutFor(requestTimeoutMs)`. */
  checkTimeoutMs?: number;
  /** Timeout of the task-facing clients from `clientFor`, and of `/object_info`; default 10 s. */
  requestTimeoutMs?: number;
  /** Health-check period; default 15 s, spread by ±`jitterRatio` (default 0.2). */
  intervalMs?: number;
  jitterRatio?: number;
  /** Consecutive failed checks before a server is `down`; default 2. */
  downAfter?: number;
  /** The gateway's WebSocket client id per server; default `aipack-<uuid>`. */
  clientId?: () => string;
  now?: () => number;
  random?: () => number;
  timers?: PoolTimers;
  fetch?: FetchLike;
  WebSocketImpl?: WebSocketConstructor;
  stream?: { minBackoffMs?: number; maxBackoffMs?: number };
}

/**
 * The health-probe timeout for a request timeout: the same, capped at 5 s, so a dead server is
 * found within one interval while a busy one (ComfyUI answers HTTP slowly while a prompt holds
 * the GIL) is not marked down for a slow `/system_stats`.
 */
export function checkTimeoutFor(requestTimeoutMs: number): number {
  return Math.min(requestTimeoutMs, 5_000);
}
