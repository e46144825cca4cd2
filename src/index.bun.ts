import { startGateway } from "./server/start-gateway.ts";

// The Bun entry: the only file that knows it runs on Bun.
const { config, app, built } = await startGateway();
const server = Bun.serve({ fetch: app.fetch, port: config.port, hostname: config.host });
built.deps.logger.info("aipack listening", { runtime: "bun", port: server.port, url: config.publicBaseUrl });

async function shutdown(signal: string): Promise<void> {
  built.deps.logger.info("shutting down", { signal });
  await server.stop();
  await built.close();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
