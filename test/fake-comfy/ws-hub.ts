import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

/** What the hub asks when a client (re)connects: the queue size and what it is executing. */
export interface HubHooks {
  queueRemaining(): number;
  /** The node executing now for a prompt owned by this client id, if any. */
  executingFor(clientId: string): { node: string } | null;
  onConnection(): void;
  /** A client sent `feature_flags` (counted whatever the release makes of it). */
  onFeatureFlags(): void;
  /**
   * What a `feature_flags` message from a client is answered with; null for releases that ignore
   * client messages (0.3.x).
   */
  serverFeatures(): Record<string, unknown> | null;
  /** True while messages are to be dropped instead of sent (`muteSockets`). */
  muted?(): boolean;
  /** Called with every JSON message just before it is written to a socket (benchmarks timestamp them). */
  onSend?(message: unknown): void;
}

/**
 * The `/ws` endpoint: one socket per client id (a second connection with the same id replaces the
 * first), execution messages routed to the prompt's client, `status` to everyone.
 */
export class WsHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Map<string, WebSocket>();
  /** Sockets whose client sent `feature_flags` asking for preview metadata (they get event 4). */
  private readonly wantsMetadata = new WeakSet<WebSocket>();

  constructor(private readonly hooks: HubHooks) {}

  /** Handles an HTTP upgrade for `/ws?clientId=`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, clientIdParam: string | null): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, clientIdParam));
  }

  private accept(ws: WebSocket, clientIdParam: string | null): void {
    this.hooks.onConnection();
    const sid = clientIdParam || randomUUID().replaceAll("-", "");
    const previous = this.sockets.get(sid);
    this.sockets.set(sid, ws);
    previous?.close(1000, "replaced by a new connection with the same clientId");
    ws.on("close", () => {
      if (this.sockets.get(sid) === ws) this.sockets.delete(sid);
    });
    ws.on("error", () => ws.terminate());
    ws.on("message", (data, isBinary) => {
      if (!isBinary) this.onClientMessage(ws, String(data));
    });
    this.sendTo(ws, { type: "status", data: { status: { exec_info: { queue_remaining: this.hooks.queueRemaining() } }, sid } });
    const running = this.hooks.executingFor(sid);
    // Like server.py: only `{ node }`, no prompt_id nor display_node.
    if (running !== null) this.sendTo(ws, { type: "executing", data: { node: running.node } });
  }

  /** Sends to the socket of `clientId`, or to everyone when the prompt has no client id. */
  send(clientId: string | null, message: unknown): void {
    if (clientId === null) return this.broadcast(message);
    const ws = this.sockets.get(clientId);
    if (ws !== undefined) this.sendTo(ws, message);
  }

  /**
   * Sends a binary frame with the same routing as `send`, only to the sockets that asked for
   * preview metadata (`metadata: true`) or only to those that did not (`false`).
   */
  sendBinary(clientId: string | null, frame: Uint8Array, metadata = false): void {
    const targets = clientId === null ? [...this.sockets.values()] : [this.sockets.get(clientId)];
    for (const ws of targets) {
      if (ws === undefined || ws.readyState !== ws.OPEN || this.wantsMetadata.has(ws) !== metadata || this.hooks.muted?.()) continue;
      ws.send(frame, { binary: true });
    }
  }

  /** Current releases answer a client's `feature_flags` with the server's and remember its wish. */
  private onClientMessage(ws: WebSocket, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null || (message as { type?: unknown }).type !== "feature_flags") return;
    this.hooks.onFeatureFlags();
    const features = this.hooks.serverFeatures();
    if (features === null) return;
    const data = (message as { data?: unknown }).data;
    if (typeof data === "object" && data !== null && (data as Record<string, unknown>).supports_preview_metadata === true) this.wantsMetadata.add(ws);
    this.sendTo(ws, { type: "feature_flags", data: features });
  }

  /** Sends to every connected socket (queue `status`). */
  broadcast(message: unknown): void {
    for (const ws of this.sockets.values()) this.sendTo(ws, message);
  }

  /** Number of connected client ids. */
  get size(): number {
    return this.sockets.size;
  }

  /** Drops every socket without a closing handshake, as a crashed server or broken network would. */
  dropAll(): void {
    for (const ws of this.sockets.values()) ws.terminate();
    this.sockets.clear();
  }

  /** Closes every socket cleanly (server shutting down). */
  closeAll(): void {
    for (const ws of this.sockets.values()) ws.close(1001, "server shutting down");
    this.sockets.clear();
  }

  private sendTo(ws: WebSocket, message: unknown): void {
    if (ws.readyState !== ws.OPEN || this.hooks.muted?.()) return;
    this.hooks.onSend?.(message);
    ws.send(JSON.stringify(message));
  }
}
