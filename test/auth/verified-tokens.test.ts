import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/auth/principal.ts";
import { VerifiedTokens } from "../../src/auth/verified-tokens.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, settableClock } from "../support/test-gateway.ts";

// Verified user tokens are remembered until their expiry (src/auth/verified-tokens.ts): a client
// polling once a second pays one HS256 verification per token, not one per poll.

const minted = "2026-05-01T10:00:00.000Z";

async function tokenWorld(dialect: (typeof dialectCases)[number]) {
  const clock = settableClock(minted);
  const { app, deps } = await createTestGateway(dialect, {}, clock);
  const style = deps.controllers.get("style")!;
  await style.ready();
  const user = await style.upsertUser({ externalId: `token-cache-${Date.now()}` });
  const { token } = await deps.auth!.mintUserToken("style", user.id, 60, clock.now());
  const ask = (credential: string) => app.request("/api/workflows?frontend=style", { headers: { authorization: `Bearer ${credential}` } });
  return { clock, token, ask };
}

/** The same token with one signature character changed (not the last: its low bits may be unused). */
function tampered(token: string): string {
  const at = token.length - 10;
  return token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
}

describe.each(dialectCases)("remembered user tokens on $name", (dialect) => {
  it.skipIf(dialect.skip)("a token accepted (and remembered) is refused as expired once its expiry is reached", async () => {
    const { clock, token, ask } = await tokenWorld(dialect);
    expect((await ask(token)).status).toBe(200);
    clock.set("2026-05-01T10:00:59.999Z");
    expect((await ask(token)).status).toBe(200);
    clock.set("2026-05-01T10:01:00.000Z");
    const refused = await ask(token);
    expect(refused.status).toBe(401);
    const body = await refused.json();
    expect(body.error.code).toBe("unauthorized");
    expect(body.error.message).toContain("expired");
  });

  it.skipIf(dialect.skip)("a token altered by one character is refused after the genuine one was accepted", async () => {
    const { token, ask } = await tokenWorld(dialect);
    expect((await ask(token)).status).toBe(200);
    const refused = await ask(tampered(token));
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });
});

describe("VerifiedTokens", () => {
  const at = (iso: string) => new Date(iso).getTime();
  const principal = (userId: string, expiresAt: string): Extract<Principal, { kind: "user" }> => ({ kind: "user", frontend: "style", userId, expiresAt: new Date(expiresAt) });

  it("answers a remembered token until the instant of its expiry, then forgets it", () => {
    const tokens = new VerifiedTokens();
    const alice = principal("alice", "2026-05-01T10:01:00.000Z");
    tokens.remember("t1", alice, at(minted));
    expect(tokens.get("t1", at("2026-05-01T10:00:59.999Z"))).toBe(alice);
    expect(tokens.get("t1", at("2026-05-01T10:01:00.000Z"))).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it("does not remember a token that has already expired", () => {
    const tokens = new VerifiedTokens();
    tokens.remember("t1", principal("alice", minted), at(minted));
    expect(tokens.size).toBe(0);
  });

  it("holds at most its bound, forgetting the oldest token first", () => {
    const tokens = new VerifiedTokens(3);
    for (const name of ["a", "b", "c", "d"]) tokens.remember(name, principal(name, "2026-05-01T11:00:00.000Z"), at(minted));
    expect(tokens.size).toBe(3);
    expect(tokens.get("a", at(minted))).toBeUndefined();
    expect(tokens.get("d", at(minted))?.userId).toBe("d");
  });
});
