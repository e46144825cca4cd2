import type { WSContext } from "hono/ws";

/** Every open client socket, so shutdown can close them all with 1001 on either runtime. */
export class SocketRegistry {
  private readonly sockets = new Set<WSContext>();

  add(socket: WSContext): void {
    this.sockets.add(socket);
  }

  delete(socket: WSContext): void {
    this.sockets.delete(socket);
  }

  get size(): number {
    return this.sockets.size;
  }

  closeAll(code: number, reason: string): void {
    for (const socket of this.sockets) socket.close(code, reason);
    this.sockets.clear();
  }
}
