import { createHmac, timingSafeEqual } from "node:crypto";

// Uploaded inputs (a user's selfies) are private: local storage serves them only at URLs carrying
// `expires` (unix seconds) and `signature` = base64url(HMAC-SHA256(secret, key + "\n" + expires)).
// Outputs stay plain public URLs.

/** Whether a key holds a user's upload (`<frontend>/inputs/...`), which needs a signed URL. */
export function isPrivateKey(key: string): boolean {
  return /^[^/]+\/inputs\//.test(key);
}

function signature(secret: string, key: string, expires: number): Buffer {
  return createHmac("sha256", secret).update(`${key}\n${expires}`).digest();
}

/** The query string that lets the holder read `key` until `expires`. */
export function signQuery(secret: string, key: string, expires: number): string {
  return `expires=${expires}&signature=${signature(secret, key, expires).toString("base64url")}`;
}

/** Whether a signed URL's parameters are genuine and not expired at `nowSeconds`. */
export function verifySignedQuery(secret: string, key: string, query: { expires?: string; signature?: string }, nowSeconds: number): boolean {
  if (!query.expires || !/^\d{1,12}$/.test(query.expires) || !query.signature) return false;
  const expires = Number(query.expires);
  if (expires < nowSeconds) return false;
  const given = Buffer.from(query.signature, "base64url");
  const expected = signature(secret, key, expires);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
