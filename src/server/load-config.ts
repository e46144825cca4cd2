import { existsSync } from "node:fs";
import { ConfigError, loadConfig, type Config } from "../config/config.ts";
import { knownFrontends } from "../controllers/db-controller-map.ts";
import { checkDataDir } from "./data-dir.ts";

/** Reads .env (if present) and the environment; a bad value ends the process with one clear line. */
export function loadConfigOrExit(): Config {
  if (existsSync(".env")) process.loadEnvFile(".env");
  try {
    const config = loadConfig(process.env, knownFrontends);
    checkDataDir(config);
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`aipack: configuration error: ${error.message}`);
    process.exit(1);
  }
}
