import type { Frontend } from "../controllers/db-controller-map.ts";

/**
 * Who a request acts as, set on the context by the auth middleware (`c.get("principal")`):
 * - `frontend-key`: a frontend's backend, with one of its secret keys; acts for any of its users.
 * - `user`: an end user's client, with a token minted by its frontend; acts for that user only.
 * - `admin`: the operator (`ADMIN_KEY` or an admin key); the pool's details and every frontend.
 * `keyId` is the key's public id (never the key); rate limits and logs may key on it. A user's
 * `expiresAt` is its token's expiry: a WebSocket opened with it is closed then (4401).
 */
export type Principal =
  | { kind: "frontend-key"; frontend: Frontend; keyId: string }
  | { kind: "user"; frontend: Frontend; userId: string; expiresAt: Date }
  | { kind: "admin"; keyId: string };

/** Whether the principal may act on `frontend` at all (ownership of rows is checked on top). */
export function mayActOn(principal: Principal, frontend: string): boolean {
  return principal.kind === "admin" || principal.frontend === frontend;
}

/** A short, secret-free label for logs and rate-limit keys: `user:style:<id>`, `key:style:<id>`, `admin:<id>`. */
export function principalLabel(principal: Principal): string {
  switch (principal.kind) {
    case "admin":
      return `admin:${principal.keyId}`;
    case "frontend-key":
      return `key:${principal.frontend}:${principal.keyId}`;
    case "user":
      return `user:${principal.frontend}:${principal.userId}`;
  }
}
