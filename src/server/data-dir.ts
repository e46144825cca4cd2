import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, type Config } from "../config/config.ts";
import { randomId } from "../lib/ids.ts";

/** Whether anything is kept under DATA_DIR: SQLite files, local storage, or the instance id. */
function usesDataDir(config: Config): boolean {
  return Object.values(config.databases).some((target) => target.kind === "sqlite") || config.storage.kind === "local" || !config.instanceId;
}

/**
 * Makes sure DATA_DIR exists and takes a write, so an unusable folder stops the start with one
 * line naming it instead of a stack trace from whichever module touches it first.
 */
export function checkDataDir(config: Config): void {
  if (!usesDataDir(config)) return;
  const probe = path.join(config.dataDir, `.probe-${randomId(6)}`);
  try {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(probe, "ok", { flag: "wx" });
    rmSync(probe, { force: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(`DATA_DIR: ${config.dataDir} is not a writable folder (${typeof code === "string" ? code : String(error)})`);
  }
}
