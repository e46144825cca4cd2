import type { WSContext } from "hono/ws";
import type { TaskEvent } from "./task-events.ts";
import { bufferedAmount, terminate } from "./raw-socket.ts";
import { closeCodes, closeReasons, encodeClientPreview, type ServerMessage } from "./ws-protocol.ts";

export interface SenderLimits {
  /** Above this many queued bytes, progress is held back (only the latest kept). */
  softBytes: number;
  /** Above this, the client is too slow to serve and is closed. */
  hardBytes: number;
}

export const defaultSenderLimits: SenderLimits = { softBytes: 256 * 1024, hardBytes: 8 * 1024 * 1024 };

/**
 * Sends to one client without letting it slow anyone else: sends never wait, progress for a
 * client that is behind is coalesced to the latest per task, and a client past the hard bound
 * is closed and its connection dropped. Final messages are always sent.
 */
export class ClientSender {
  private readonly heldBack = new Map<string, TaskEvent>();
  dropped = 0;

  constructor(
    private readonly socket: WSContext,
    private readonly limits: SenderLimits = defaultSenderLimits,
  ) {}

  private open(): boolean {
    return this.socket.readyState === 1;
  }

  private overHardBound(): boolean {
    if (bufferedAmount(this.socket) <= this.limits.hardBytes) return false;
    this.heldBack.clear();
    this.socket.close(closeCodes.tooSlow, closeReasons.tooSlow);
    // The close frame sits behind the backlog: drop the connection so the backlog is freed now.
    terminate(this.socket);
    return true;
  }

  /** Sends a message, or holds back progress while the client is behind. */
  send(message: ServerMessage): void {
    if (!this.open() || this.overHardBound()) return;
    const transient = message.type === "progress" || message.type === "executing";
    if (transient && bufferedAmount(this.socket) > this.limits.softBytes) {
      const previous = this.heldBack.get(message.taskId);
      if (previous) this.dropped++;
      this.heldBack.set(message.taskId, message);
      return;
    }
    if ("taskId" in message && message.taskId !== undefined) this.flush(message.taskId);
    this.socket.send(JSON.stringify(message));
  }

  /** Sends the held-back progress of a task first, so order per task is kept. */
  private flush(taskId: string): void {
    const held = this.heldBack.get(taskId);
    if (!held) return;
    this.heldBack.delete(taskId);
    this.socket.send(JSON.stringify(held));
  }

  /** Drops what is held back for a task the client stopped following. */
  forget(taskId: string): void {
    this.heldBack.delete(taskId);
  }

  /** Previews are the first thing a client that is behind goes without. */
  sendPreview(taskId: string, format: "jpeg" | "png", bytes: Uint8Array): void {
    if (!this.open() || bufferedAmount(this.socket) > this.limits.softBytes) {
      this.dropped++;
      return;
    }
    const frame = encodeClientPreview(taskId, format, bytes);
    this.socket.send(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer);
  }
}
