import type { WSContext } from "hono/ws";
import { terminate } from "./raw-socket.ts";

/** How long sockets get to finish the closing handshake at shutdown before they are dropped. */
export const defaultCloseGraceMs = 2_000;

/**
 * Every open client socket, so shutdown can close them all with 1001 on either runtime. Once
 * closing, it stays closing: an upgrade that completes after shutdown began (a keep-alive
 * connection the server had already accepted) is said goodbye to at once instead of lingering.
 */
export class SocketRegistry {
  private readonly sockets = new Set<WSContext>();
  private goodbye: { code: number; reason: string } | null = null;

  get closing(): boolean {
    return this.goodbye !== null;
  }

  /** Registers a socket; false (and the socket closed) when shutdown has begun. */
  add(socket: WSContext): boolean {
    if (this.goodbye) {
      socket.close(this.goodbye.code, this.goodbye.reason);
      return false;
    }
    this.sockets.add(socket);
    return true;
  }

  delete(socket: WSContext): void {
    this.sockets.delete(socket);
  }

  get size(): number {
    return this.sockets.size;
  }

  /**
   * Closes every socket and refuses new ones. Sockets whose closing handshake has not completed
   * after `graceMs` (a peer that stopped reading) are dropped. Sockets leave the registry through
   * `delete`, from their close handler.
   */
  closeAll(code: number, reason: string, graceMs = defaultCloseGraceMs): void {
    this.goodbye = { code, reason };
    for (const socket of this.sockets) socket.close(code, reason);
    if (this.sockets.size === 0) return;
    const timer = setTimeout(() => {
      for (const socket of this.sockets) terminate(socket);
      this.sockets.clear();
    }, graceMs);
    // Never the reason the process stays up.
    timer.unref();
  }
}
