import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { Clock } from "../lib/clock.ts";
import { readAdminKeys, type AdminKeyRecord } from "./admin-keys.ts";
import { adminScope, hashKey, keyMatches, parseKey } from "../lib/key-format.ts";
import type { Principal } from "./principal.ts";
import { claimedFrontend, importSigningKey, signUserToken, verifyUserToken, type SigningKey } from "./user-tokens.ts";
import { VerifiedTokens } from "./verified-tokens.ts";

export interface AuthenticatorOptions {
  controllers: ReadonlyMap<Frontend, BaseDBController>;
  clock: Clock;
  dataDir: string;
  /** `ADMIN_KEY`: any long secret string. */
  adminKey?: string;
  /** `API_KEYS`: frontend keys given by the environment (container deployments). */
  envKeys?: readonly string[];
  /** How long a key row or the admin key file is trusted before it is read again (revocation delay). */
  cacheMs?: number;
  /** How many verified user tokens are remembered (each until its expiry). */
  maxVerifiedTokens?: number;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: "invalid" | "expired" | "revoked" };

interface CachedKey {
  hash: string;
  revoked: boolean;
  readAt: number;
}

const maxCachedKeys = 1000;

/**
 * Turns a bearer credential (a frontend key, an admin key, or a user token) into a principal, and
 * mints user tokens. Keys are compared by hash in constant time; the key rows read from a
 * frontend's database are trusted for `cacheMs`, so a revoke takes effect within that on every
 * replica without a database read per request.
 */
export class Authenticator {
  private readonly keyCache = new Map<string, CachedKey>();
  private readonly secrets = new Map<string, Promise<SigningKey>>();
  private readonly envKeyHashes = new Map<string, { frontend: string; hash: string }>();
  private readonly adminKeyHash?: string;
  private adminFile: { records: AdminKeyRecord[]; readAt: number } | undefined;
  private readonly cacheMs: number;
  private readonly verifiedTokens: VerifiedTokens;

  constructor(private readonly options: AuthenticatorOptions) {
    this.cacheMs = options.cacheMs ?? 5_000;
    this.verifiedTokens = new VerifiedTokens(options.maxVerifiedTokens);
    this.adminKeyHash = options.adminKey ? hashKey(options.adminKey) : undefined;
    for (const key of options.envKeys ?? []) {
      const parsed = parseKey(key);
      if (parsed) this.envKeyHashes.set(`${parsed.scope}:${parsed.id}`, { frontend: parsed.scope, hash: hashKey(key) });
    }
  }

  async authenticate(credential: string): Promise<AuthResult> {
    if (credential.startsWith("aipk_")) return this.authenticateKey(credential);
    if (this.adminKeyHash && keyMatches(credential, this.adminKeyHash)) return { ok: true, principal: { kind: "admin", keyId: "env" } };
    return this.authenticateToken(credential);
  }

  /** A token for one user of `frontend`, valid `ttlSeconds` from now. */
  async mintUserToken(frontend: Frontend, userId: string, ttlSeconds: number, now = this.options.clock.now()) {
    return signUserToken({ frontend, userId }, await this.signing(frontend), ttlSeconds, now);
  }

  private controller(frontend: string): BaseDBController | undefined {
    return this.options.controllers.get(frontend as Frontend);
  }

  private async authenticateKey(key: string): Promise<AuthResult> {
    const parsed = parseKey(key);
    if (!parsed) return { ok: false, reason: "invalid" };
    if (parsed.scope === adminScope) {
      const record = this.adminRecords().find((candidate) => candidate.id === parsed.id);
      if (!record || !keyMatches(key, record.hash)) return { ok: false, reason: "invalid" };
      if (record.revokedAt) return { ok: false, reason: "revoked" };
      return { ok: true, principal: { kind: "admin", keyId: parsed.id } };
    }
    const controller = this.controller(parsed.scope);
    if (!controller) return { ok: false, reason: "invalid" };
    const frontend = parsed.scope as Frontend;
    const fromEnv = this.envKeyHashes.get(`${frontend}:${parsed.id}`);
    const stored = fromEnv ? { hash: fromEnv.hash, revoked: false } : await this.storedKey(controller, parsed.id);
    if (!stored || !keyMatches(key, stored.hash)) return { ok: false, reason: "invalid" };
    if (stored.revoked) return { ok: false, reason: "revoked" };
    return { ok: true, principal: { kind: "frontend-key", frontend, keyId: parsed.id } };
  }

  private async storedKey(controller: BaseDBController, id: string): Promise<CachedKey | undefined> {
    const cacheKey = `${controller.frontend}:${id}`;
    const now = this.options.clock.now().getTime();
    const cached = this.keyCache.get(cacheKey);
    if (cached && now - cached.readAt < this.cacheMs) return cached;
    await controller.ready();
    const row = await controller.keys.getApiKey(id);
    if (!row) {
      this.keyCache.delete(cacheKey);
      return undefined;
    }
    const entry = { hash: row.hash, revoked: row.revokedAt !== null, readAt: now };
    if (this.keyCache.size >= maxCachedKeys) this.keyCache.delete(this.keyCache.keys().next().value!);
    this.keyCache.set(cacheKey, entry);
    return entry;
  }

  private adminRecords(): AdminKeyRecord[] {
    // The injected clock, as for the key rows: a revoked admin key's delay is the same cacheMs.
    const now = this.options.clock.now().getTime();
    if (!this.adminFile || now - this.adminFile.readAt >= this.cacheMs) {
      this.adminFile = { records: readAdminKeys(this.options.dataDir), readAt: now };
    }
    return this.adminFile.records;
  }

  private async authenticateToken(token: string): Promise<AuthResult> {
    const now = this.options.clock.now();
    const known = this.verifiedTokens.get(token, now.getTime());
    if (known) return { ok: true, principal: known };
    const frontend = claimedFrontend(token);
    if (!frontend || !this.controller(frontend)) return { ok: false, reason: "invalid" };
    const verified = await verifyUserToken(token, frontend, await this.signing(frontend as Frontend), now);
    if (!verified.ok) return verified;
    const principal = { kind: "user" as const, frontend: frontend as Frontend, userId: verified.userId, expiresAt: verified.expiresAt };
    this.verifiedTokens.remember(token, principal, now.getTime());
    return { ok: true, principal };
  }

  private signing(frontend: Frontend): Promise<SigningKey> {
    let secret = this.secrets.get(frontend);
    if (!secret) {
      const controller = this.controller(frontend);
      if (!controller) throw new Error(`frontend ${frontend} is not enabled`);
      secret = controller.ready().then(() => controller.keys.signingSecret()).then(importSigningKey);
      // A failed read (database down) is retried by the next request instead of being remembered.
      secret.catch(() => this.secrets.delete(frontend));
      this.secrets.set(frontend, secret);
    }
    return secret;
  }
}
