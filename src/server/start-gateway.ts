import type { GetConnInfo } from "hono/conninfo";
import type { UpgradeWebSocket } from "hono/ws";
import { createApp, type App } from "../app.ts";
import type { Config } from "../config/config.ts";
import { buildDeps, prepareDatabases, type BuiltDeps } from "./build-deps.ts";
import { loadConfigOrExit } from "./load-config.ts";
import { WorkflowConfigError } from "../workflows/index.ts";
import { createFirstKeys } from "../auth/first-keys.ts";

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
  if (!config.auth.enabled) {
    const warning = "AUTH=off: EVERY REQUEST ACTS AS THE OPERATOR, WITH NO CREDENTIAL. Local development only (loopback HOST enforced).";
    console.error(`\n${"!".repeat(warning.length)}\n${warning}\n${"!".repeat(warning.length)}\n`);
    built.deps.logger.warn("authentication is off", { host: config.host });
  }
  await createFirstKeys({ auth: config.auth, dataDir: config.dataDir, controllers: built.deps.controllers, logger: built.deps.logger }, (text) => console.log(text));
  // The entry calls built.start() once listening: resumed tasks' file URLs name the bound port.
  return { config, app: createApp(built.deps), built, stop: built.close };
}
