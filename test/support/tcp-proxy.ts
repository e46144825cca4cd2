import net from "node:net";
import { onTestFinished } from "vitest";

/** A real network fault in front of a TCP server (MariaDB, Redis, a fake ComfyUI). */
export interface TcpProxy {
  /** The port clients connect to (bound by the proxy itself, kept for its whole life). */
  readonly port: number;
  /** Connections accepted and forwarded so far (a signal that a client got through). */
  readonly forwarded: number;
  /** Connections destroyed by a fault so far (a signal that a client hit it). */
  readonly refused: number;
  /** The outage starts: every open connection is destroyed, and so is every new one at once. */
  cut(): void;
  /** The server is reachable again for new connections. */
  restore(): void;
  /**
   * One-shot: the next client packet containing `marker` reaches the server, but its answer never
   * comes back (the connection dies in between): the write landed, the client cannot know.
   */
  loseAnswerTo(marker: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 (port 0, so nothing can take it between binding and use) in front of
 * `target`, closed when the test ends. While cut, the port stays bound by the proxy, so restoring
 * never races another process for it; clients see their connections reset, as with a crashed or
 * firewalled server.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let down = false;
  let forwarded = 0;
  let refused = 0;
  let loseAnswer: { marker: string; lost: () => void } | null = null;

  const server = net.createServer((client) => {
    if (down) {
      refused += 1;
      client.destroy();
      return;
    }
    forwarded += 1;
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    let armed: (() => void) | null = null;
    client.on("data", (chunk: Buffer) => {
      if (loseAnswer && chunk.includes(loseAnswer.marker)) {
        armed = loseAnswer.lost;
        loseAnswer = null;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (armed) {
        // The server answered (so it did the work); the client never hears it.
        const lost = armed;
        armed = null;
        client.destroy();
        upstream.destroy();
        lost();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;

  const proxy: TcpProxy = {
    port,
    get forwarded() {
      return forwarded;
    },
    get refused() {
      return refused;
    },
    cut() {
      down = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    loseAnswerTo(marker) {
      return new Promise<void>((resolve) => (loseAnswer = { marker, lost: resolve }));
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  onTestFinished(() => proxy.close());
  return proxy;
}

/** `mysql://user@host:port/...` with its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const parsed = new URL(url);
  parsed.hostname = "127.0.0.1";
  parsed.port = String(proxy.port);
  return parsed.toString();
}

/** The host and port a URL names. */
export function targetOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 3306) };
}
