import { createApp, type App } from "../app.ts";
import type { Config } from "../config/config.ts";
import { buildDeps, prepareDatabases, type BuiltDeps } from "./build-deps.ts";
import { loadConfigOrExit } from "./load-config.ts";

export interface Gateway {
  config: Config;
  app: App;
  built: BuiltDeps;
}

/** Everything both runtime entries do before they serve: config, deps, migrations, app. */
export async function startGateway(): Promise<Gateway> {
  const config = loadConfigOrExit();
  const built = buildDeps(config);
  await prepareDatabases(built.deps);
  return { config, app: createApp(built.deps), built };
}
