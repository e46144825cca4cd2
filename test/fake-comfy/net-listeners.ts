import { createServer, type Server, type Socket } from "node:net";
import { onTestFinished } from "vitest";

/** A TCP listener that accepts connections and never answers (a hung HTTP server). */
export async function silentListener(): Promise<string> {
  const held = new Set<Socket>();
  const server: Server = createServer((socket) => held.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => {
    for (const socket of held) socket.destroy();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A URL on a port nothing listens on (briefly bound, then released). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
