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

  /** Sends a binary frame with the same routing as `send`. */
  sendBinary(clientId: string | null, frame: Uint8Array): void {
    const targets = clientId === null ? [...this.sockets.values()] : [this.sockets.get(clientId)];
    for (const ws of targets) if (ws !== undefined && ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
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
    if (ws.readyState !== ws.OPEN) return;
    this.hooks.onSend?.(message);
    ws.send(JSON.stringify(message));
  }
}
