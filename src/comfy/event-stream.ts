import { backoffDelay } from "./backoff.ts";
import { ComfyUnavailableError } from "./errors.ts";
import type { ComfyMessage } from "./events.ts";
import { FrameDecoder, type PreviewEvent } from "./frame-decoder.ts";
import type { QueueReader } from "./running-prompt.ts";
import { defaultWebSocketImpl, type WebSocketConstructor, type WebSocketLike } from "./websocket-impl.ts";

export type { PreviewEvent } from "./frame-decoder.ts";

/** Connection lifecycle. After `reconnected`, messages sent during the gap are lost: reconcile from /history. */
export type LifecycleEvent =
  | { type: "connected" }
  | { type: "disconnected"; reason: string }
  | { type: "reconnected"; downMs: number };

/** Everything a stream listener receives. */
export type ComfyStreamEvent = ComfyMessage | PreviewEvent | LifecycleEvent;
export type ComfyStreamListener = (event: ComfyStreamEvent) => void;

/** Options of one upstream stream. */
export interface ComfyEventStreamOptions {
  baseUrl: string;
  clientId: string;
  WebSocketImpl?: WebSocketConstructor;
  /** Reconnect backoff bounds; defaults 500 ms .. 30 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection attempt that does not open within this is abandoned; default 10 s. */
  connectTimeoutMs?: number;
  random?: () => number;
  now?: () => number;
  /**
   * Reads `/queue` to name the prompt of an `executing` that arrives without one (after a
   * reconnect). Without it such a message is passed on unattributed.
   */
  readQueue?: QueueReader;
  /**
   * Asked at every connection: whether the server sends previews with metadata (event 4) to a
   * client that asks with `feature_flags`. Asked after `connected` / `reconnected` is emitted, so a
   * listener that re-learns the server's capabilities then is answered with the fresh ones.
   */
  previewMetadata?: () => Promise<boolean>;
}

/** The first message a client sends to be given previews that name their prompt (current releases). */
const featureFlags = JSON.stringify({ type: "feature_flags", data: { supports_preview_metadata: true } });

/** Builds `ws(s)://host/ws?clientId=` from the server's http(s) base URL. */
export function wsUrlFor(baseUrl: string, clientId: string): string {
  const url = new URL("ws", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("clientId", clientId);
  return url.toString();
}

/**
 * One WebSocket to one ComfyUI server under the gateway's client id, kept open with exponential
 * backoff. Parses frames into typed events; `close()` stops it for good.
 */
export class ComfyEventStream {
  readonly clientId: string;
  private readonly url: string;
  private readonly Impl: WebSocketConstructor;
  private readonly listeners = new Set<ComfyStreamListener>();
  private readonly decoder: FrameDecoder;
  private readonly now: () => number;
  private socket: WebSocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private started = false;
  private closed = false;
  private everConnected = false;
  private downSince: number | null = null;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: ComfyEventStreamOptions) {
    this.clientId = options.clientId;
    this.url = wsUrlFor(options.baseUrl, options.clientId);
    this.Impl = options.WebSocketImpl ?? defaultWebSocketImpl();
    this.now = options.now ?? Date.now;
    this.decoder = new FrameDecoder({ clientId: options.clientId, readQueue: options.readQueue, emit: (event) => this.emit(event) });
  }

  /** True while the socket is open. */
  get connected(): boolean {
    return this.downSince === null && this.everConnected && !this.closed;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: ComfyStreamListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.open();
  }

  /** Starts if needed and resolves once connected; rejects after `timeoutMs` (default 5 s). */
  ready(timeoutMs = 5_000): Promise<void> {
    this.start();
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timeout);
        resolve();
      };
      const timeout = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new ComfyUnavailableError(`ComfyUI event stream not connected within ${timeoutMs} ms`, this.options.baseUrl));
      }, timeoutMs);
      this.waiters.push(done);
    });
  }

  /** Stops for good: closes the socket, cancels reconnects, drops listeners. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.decoder.stop();
    this.clearTimer();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "closed by gateway");
    this.listeners.clear();
  }

  private open(): void {
    if (this.closed) return;
    let socket: WebSocketLike;
    try {
      socket = new this.Impl(this.url);
    } catch (error) {
      this.scheduleReconnect(error instanceof Error ? error.message : "cannot open socket");
      return;
    }
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    let opened = false;
    this.timer = setTimeout(() => socket.close(4000, "connect timeout"), this.options.connectTimeoutMs ?? 10_000);
    socket.onopen = () => {
      if (socket !== this.socket) return;
      opened = true;
      this.clearTimer();
      this.onOpen();
      this.askForMetadata(socket);
    };
    socket.onmessage = (event) => {
      if (socket === this.socket) this.decoder.push(event.data);
    };
    socket.onerror = () => {
      // The close event follows and carries the decision; nothing to do here.
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.clearTimer();
      const reason = event.reason || `code ${event.code}`;
      if (opened) this.onLost(reason);
      this.scheduleReconnect(reason);
    };
  }

  private onOpen(): void {
    this.attempt = 0;
    const wasDown = this.downSince;
    this.downSince = null;
    if (!this.everConnected) {
      this.everConnected = true;
      this.emit({ type: "connected" });
    } else {
      this.emit({ type: "reconnected", downMs: wasDown === null ? 0 : this.now() - wasDown });
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private askForMetadata(socket: WebSocketLike): void {
    const ask = this.options.previewMetadata;
    if (ask === undefined) return;
    ask().then(
      (yes) => {
        if (yes && socket === this.socket) socket.send(featureFlags);
      },
      () => {
        // Capabilities unknown: previews arrive as event 1 and are attributed as on 0.3.x.
      },
    );
  }

  private onLost(reason: string): void {
    this.downSince = this.now();
    // Whatever was executing is unknown until the server tells us again after reconnecting.
    this.decoder.reset();
    this.emit({ type: "disconnected", reason });
  }

  private scheduleReconnect(_reason: string): void {
    if (this.closed) return;
    const delay = backoffDelay(this.attempt, {
      minMs: this.options.minBackoffMs ?? 500,
      maxMs: this.options.maxBackoffMs ?? 30_000,
      random: this.options.random,
    });
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }

  private emit(event: ComfyStreamEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener must not break the stream or the other listeners.
      }
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
