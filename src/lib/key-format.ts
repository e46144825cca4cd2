import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

// A key is `aipk_<scope>_<id>_<secret>`: the scope (a frontend name, or `admin`) says which store
// to look in, the id finds the row without a scan, and the 256-bit secret makes it unguessable.
// Only SHA-256 of the whole key is stored: with that much entropy a slow hash adds nothing.

const keyPattern = /^aipk_([a-z][a-z0-9]{0,39})_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export const adminScope = "admin";

export interface ParsedKey {
  scope: string;
  id: string;
}

/** A new key for `scope`, with its id and the hash to store. The key itself is shown once. */
export function generateKey(scope: string): { key: string; id: string; hash: string } {
  const id = randomBytes(8).toString("hex");
  const key = `aipk_${scope}_${id}_${randomBytes(32).toString("base64url")}`;
  return { key, id, hash: hashKey(key) };
}

/** The scope and id of a well-formed key; null for anything else. */
export function parseKey(key: string): ParsedKey | null {
  const match = keyPattern.exec(key);
  return match ? { scope: match[1]!, id: match[2]! } : null;
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Compares a presented key with a stored hash in time independent of where they differ. */
export function keyMatches(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashKey(key), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
