import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createAdaptorServer, upgradeWebSocket } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { onTestFinished } from "vitest";
import { WebSocketServer } from "ws";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/config.ts";
import { knownFrontends } from "../../src/controllers/db-controller-map.ts";
import type { Clock } from "../../src/lib/clock.ts";
import { memoryLogger } from "../../src/lib/logger.ts";
import { buildDeps } from "../../src/server/build-deps.ts";
import { nodeServerOptions } from "../../src/server/node-server-options.ts";
import { testAdminKey, useDefaultCredential } from "./credentials.ts";
import type { DialectCase } from "./dialects.ts";
import { relaxedLimitsEnv } from "./relaxed-limits.ts";

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
  /** A clock the test sets (rows' times, a queued task's wait). */
  clock?: Clock,
  /** false: start without waiting for the Redis relay's subscription (a test that starts with Redis down). */
  awaitRelay = true,
) {
  // The server binds port 0 itself before the app exists (local storage URLs name the port), so
  // no other process can take the port between choosing and using it.
  type Fetch = (request: Request, env: unknown) => Response | Promise<Response>;
  let appFetch: Fetch | null = null;
  const wss = new WebSocketServer({ noServer: true });
  const server = createAdaptorServer({
    // The env argument carries the Node request and the WebSocket upgrade: it must pass through.
    fetch: (request: Request, env: unknown) => (appFetch ? appFetch(request, env) : new Response(null, { status: 503 })),
    hostname: "127.0.0.1",
    websocket: { server: wss },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig(
    { ...relaxedLimitsEnv, PORT: String(port), PUBLIC_BASE_URL: url, POOL_CHECK_INTERVAL_MS: "60000", ADMIN_KEY: testAdminKey, ...data.env, ...env },
    knownFrontends,
  );
  const logger = memoryLogger();
  const built = await buildDeps(config, { logger, upgradeWebSocket, getConnInfo, ...(clock ? { clock } : {}) });
  // The limits are known only now: the socket cap and Node's timeouts as the Node entry sets them.
  wss.options.maxPayload = config.limits.ws.maxPayload;
  Object.assign(server as Server, nodeServerOptions(config.limits));
  const app = createApp(built.deps);
  appFetch = (request, env) => app.fetch(request, env);
  useDefaultCredential(url);
  if (awaitRelay) await built.relayReady;
  await built.deps.pool.refresh();
  // Resolves once the jobs left unfinished have been picked up: a test starts from a settled state.
  await built.start();
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
