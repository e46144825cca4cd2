import type { Principal } from "./principal.ts";

type UserPrincipal = Extract<Principal, { kind: "user" }>;

/** Enough for every user polling one replica; at ~0.5 KB an entry the whole map stays a few MB. */
const defaultMaxEntries = 10_000;

/**
 * User tokens that passed verification, by the exact token string, each trusted until its own
 * expiry and no longer: a client polling once a second pays one HS256 verification per token,
 * not one per poll. Only successes are kept (a forged or garbled token is verified every time, and
 * cannot fill the map), a token differing by one character is a different key, and the map is
 * bounded (the oldest entry leaves first). Signing secrets never change while the gateway runs,
 * so a verdict stays true until `exp`.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, UserPrincipal>();

  constructor(private readonly maxEntries = defaultMaxEntries) {}

  /** The principal of a token verified before and not expired at `nowMs`. */
  get(token: string, nowMs: number): UserPrincipal | undefined {
    const principal = this.entries.get(token);
    if (!principal) return undefined;
    // jose's rule: expired once now reaches exp.
    if (nowMs >= principal.expiresAt.getTime()) {
      this.entries.delete(token);
      return undefined;
    }
    return principal;
  }

  remember(token: string, principal: UserPrincipal, nowMs: number): void {
    if (nowMs >= principal.expiresAt.getTime()) return;
    if (!this.entries.has(token) && this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, principal);
  }

  get size(): number {
    return this.entries.size;
  }
}
