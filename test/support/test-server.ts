import net, { type AddressInfo } from "node:net";
import { serve, upgradeWebSocket } from "@hono/node-server";
import { onTestFinished } from "vitest";
import { WebSocketServer } from "ws";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/config.ts";
import { knownFrontends } from "../../src/controllers/db-controller-map.ts";
import { memoryLogger } from "../../src/lib/logger.ts";
import { buildDeps } from "../../src/server/build-deps.ts";
import { testAdminKey, useDefaultCredential } from "./credentials.ts";
import type { DialectCase } from "./dialects.ts";

/**
 * The gateway served in-process on a random port, over real HTTP and WebSocket, as the Node entry
 * wires it. Pool checks are started and have run once before this resolves.
 */
export async function startTestServer(
  dialect: DialectCase,
  env: Record<string, string>,
  /** Reuse the databases and files of an earlier server (a restart); fresh ones by default. */
  data: { env: Record<string, string>; cleanup(): void } = dialect.env(),
  /** false: the caller closes it (for a server shared by several tests, from beforeAll). */
  closeWithTest = true,
) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig(
    { PORT: String(port), PUBLIC_BASE_URL: url, POOL_CHECK_INTERVAL_MS: "60000", ADMIN_KEY: testAdminKey, ...data.env, ...env },
    knownFrontends,
  );
  const logger = memoryLogger();
  const built = await buildDeps(config, { logger, upgradeWebSocket });
  const wss = new WebSocketServer({ noServer: true });
  const app = createApp(built.deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port, hostname: "127.0.0.1", websocket: { server: wss } }, () => resolve(started));
  });
  useDefaultCredential(url);
  await built.relayReady;
  await built.deps.pool.refresh();
  built.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    built.deps.sockets.closeAll(1001, "test over");
    const closing = new Promise<void>((resolve) => server.close(() => resolve()));
    if ("closeAllConnections" in server) server.closeAllConnections();
    await closing;
    await built.close();
  };
  if (closeWithTest) {
    onTestFinished(async () => {
      await close();
      data.cleanup();
    });
  }
  return { url, app, deps: built.deps, config, logger, close, data };
}

/** A port free right now (local storage URLs must name the port before the server starts). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
