import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomId } from "../lib/ids.ts";

/**
 * This gateway's lasting identity, kept in DATA_DIR (or given as INSTANCE_ID). ComfyUI routes a
 * prompt's messages to the client id it was queued with, so a restarted gateway must come back
 * under the same id to hear about the tasks it left running. Each replica needs its own.
 */
export function instanceId(dataDir: string, configured?: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, "instance-id");
  try {
    const existing = readFileSync(file, "utf8").trim();
    if (/^[A-Za-z0-9_-]{8,64}$/.test(existing)) return existing;
  } catch {
    // first start: create it below
  }
  const id = randomId(12);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}
