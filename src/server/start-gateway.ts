import type { GetConnInfo } from "hono/conninfo";
import type { UpgradeWebSocket } from "hono/ws";
import { createApp, type App } from "../app.ts";
import type { Config } from "../config/config.ts";
import { buildDeps, prepareDatabases, type BuiltDeps } from "./build-deps.ts";
import { loadConfigOrExit } from "./load-config.ts";
import { WorkflowConfigError } from "../workflows/index.ts";

export interface Gateway {
  config: Config;
  app: App;
  built: BuiltDeps;
  /** Stops background work and releases connections (after the server stopped accepting). */
  stop(): Promise<void>;
}

/** Everything both runtime entries do before they serve: config, deps, migrations, app. */
export async function startGateway(options: { upgradeWebSocket: UpgradeWebSocket; getConnInfo: GetConnInfo }): Promise<Gateway> {
  const config = loadConfigOrExit();
  const built = await buildDeps(config, { upgradeWebSocket: options.upgradeWebSocket, getConnInfo: options.getConnInfo, processMetrics: true }).catch((error: unknown) => {
    if (!(error instanceof WorkflowConfigError)) throw error;
    console.error(`aipack: workflow template error: ${error.message}`);
    process.exit(1);
  });
  await prepareDatabases(built.deps);
  void built.start();
  return { config, app: createApp(built.deps), built, stop: built.close };
}
