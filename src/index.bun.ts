import { getConnInfo, upgradeWebSocket, websocket } from "hono/bun";
import { closeCodes, closeReasons } from "./realtime/ws-protocol.ts";
import { startGateway } from "./server/start-gateway.ts";

// The Bun entry: the only file that knows it runs on Bun.
const { config, app, built, stop } = await startGateway({ upgradeWebSocket, getConnInfo });
const server = Bun.serve({
  fetch: app.fetch,
  port: config.port,
  hostname: config.host,
  // Bun has no header or request deadline: a connection silent this long is closed, and uploads
  // carry the app's own REQUEST_TIMEOUT_MS deadline (middleware/bounded-form.ts).
  idleTimeout: Math.min(255, Math.max(1, Math.round(config.limits.headersTimeoutMs / 1000))),
  // Bun pings idle sockets itself and drops those silent for idleTimeout seconds (at most 960).
  websocket: { ...websocket, maxPayloadLength: config.limits.ws.maxPayload, idleTimeout: Math.min(960, Math.max(1, Math.round((2 * config.wsHeartbeatMs) / 1000))), sendPings: true },
});
config.publicOrigin.bound(server.port ?? config.port);
built.deps.logger.info("aipack listening", { runtime: "bun", port: server.port, url: config.publicOrigin.url });
// Unfinished tasks are picked up once the port is known: their outputs get URLs on it (PORT=0).
void built.start();

/** Stops taking requests, says goodbye (1001) to sockets, lets in-flight requests finish. */
async function shutdown(signal: string): Promise<void> {
  built.deps.logger.info("shutting down", { signal });
  built.deps.sockets.closeAll(closeCodes.goingAway, closeReasons.goingAway);
  await server.stop();
  await stop();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
