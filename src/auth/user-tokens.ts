import { decodeJwt, errors, jwtVerify, SignJWT } from "jose";
import { randomId } from "../lib/ids.ts";

// User tokens are HS256 JWTs (jose) signed with their frontend's own secret, `aud` naming the
// frontend: a token verifies only against the secret of the frontend it claims, so a token signed
// by one frontend's secret (or re-labelled to another frontend) never passes for another.

const issuer = "aipack";
export const defaultTokenTtlSeconds = 3600;
export const maxTokenTtlSeconds = 24 * 3600;

export interface TokenClaims {
  frontend: string;
  userId: string;
}

/** A signing secret as jose takes it; imported once (an import per verification costs about 0.5 ms). */
export type SigningKey = { id: string; secret: string; key: CryptoKey };

export async function importSigningKey(signing: { id: string; secret: string }): Promise<SigningKey> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(signing.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  return { ...signing, key };
}

export async function signUserToken(
  claims: TokenClaims,
  signing: SigningKey,
  ttlSeconds: number,
  now: Date,
): Promise<{ token: string; expiresAt: Date }> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + ttlSeconds) * 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: signing.id })
    .setIssuer(issuer)
    .setAudience(claims.frontend)
    .setSubject(claims.userId)
    // Unique per token, so two tokens minted in the same second are never the same string.
    .setJti(randomId(9))
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(signing.key);
  return { token, expiresAt };
}

/** The frontend a token claims, read without trusting it, to pick the secret that must verify it. */
export function claimedFrontend(token: string): string | null {
  try {
    const { aud } = decodeJwt(token);
    return typeof aud === "string" ? aud : null;
  } catch {
    return null;
  }
}

export type VerifyResult = { ok: true; userId: string; expiresAt: Date } | { ok: false; reason: "expired" | "invalid" };

export async function verifyUserToken(token: string, frontend: string, signing: SigningKey, now: Date): Promise<VerifyResult> {
  try {
    const { payload } = await jwtVerify(token, signing.key, {
      algorithms: ["HS256"],
      issuer,
      audience: frontend,
      currentDate: now,
      requiredClaims: ["sub", "exp"],
    });
    if (typeof payload.sub !== "string" || payload.sub === "" || typeof payload.exp !== "number") return { ok: false, reason: "invalid" };
    return { ok: true, userId: payload.sub, expiresAt: new Date(payload.exp * 1000) };
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JWTExpired ? "expired" : "invalid" };
  }
}
