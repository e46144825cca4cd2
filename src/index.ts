import { Server as HttpServer } from "node:http";
import { serve, upgradeWebSocket } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { WebSocketServer } from "ws";
import { closeCodes, closeReasons } from "./realtime/ws-protocol.ts";
import { startHeartbeat } from "./server/node-heartbeat.ts";
import { nodeServerOptions } from "./server/node-server-options.ts";
import { startGateway } from "./server/start-gateway.ts";

// The Node entry: the only file that knows it runs on Node.
const { config, app, built, stop } = await startGateway({ upgradeWebSocket, getConnInfo });
// maxPayload: a message of the protocol is under 200 bytes; ws buffered 99 MB frames by default.
const wss = new WebSocketServer({ noServer: true, maxPayload: config.limits.ws.maxPayload });
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host, websocket: { server: wss }, serverOptions: nodeServerOptions(config.limits) }, (info) => {
  config.publicOrigin.bound(info.port);
  built.deps.logger.info("aipack listening", { runtime: "node", port: info.port, url: config.publicOrigin.url });
  // Unfinished tasks are picked up once the port is known: their outputs get URLs on it (PORT=0).
  void built.start();
});
const stopHeartbeat = startHeartbeat(wss, config.wsHeartbeatMs);

/** Stops taking requests, says goodbye (1001) to sockets, lets in-flight requests finish. */
function shutdown(signal: string): void {
  built.deps.logger.info("shutting down", { signal });
  stopHeartbeat();
  // From here on the registry also says 1001 to upgrades that complete late, and drops sockets
  // that have not finished closing after its grace period.
  built.deps.sockets.closeAll(closeCodes.goingAway, closeReasons.goingAway);
  server.close(() => void stop().then(() => process.exit(0)));
  // Keep-alive sockets that go idle once their request is answered would otherwise hold close() open.
  if (server instanceof HttpServer) setInterval(() => server.closeIdleConnections(), 100).unref();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.once("SIGTERM", () => shutdown("SIGTERM"));
process.once("SIGINT", () => shutdown("SIGINT"));
