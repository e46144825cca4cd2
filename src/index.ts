import { serve } from "@hono/node-server";
import { startGateway } from "./server/start-gateway.ts";

// The Node entry: the only file that knows it runs on Node.
const { config, app, built } = await startGateway();
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  built.deps.logger.info("aipack listening", { runtime: "node", port: info.port, url: config.publicBaseUrl });
});

function shutdown(signal: string): void {
  built.deps.logger.info("shutting down", { signal });
  server.close(() => void built.close().then(() => process.exit(0)));
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.once("SIGTERM", () => shutdown("SIGTERM"));
process.once("SIGINT", () => shutdown("SIGINT"));
