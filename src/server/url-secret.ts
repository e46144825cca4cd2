import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomId } from "../lib/ids.ts";

/**
 * The secret that signs local storage's private file URLs: URL_SIGNING_SECRET, or one made at the
 * first start and kept in DATA_DIR/auth/url-secret (only readable by the gateway's user).
 */
export function urlSigningSecret(dataDir: string, configured?: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, "auth", "url-secret");
  try {
    const existing = readFileSync(file, "utf8").trim();
    if (existing.length >= 32) return existing;
  } catch {
    // first start: create it below
  }
  const secret = randomId(32);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
