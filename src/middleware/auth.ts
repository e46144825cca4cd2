import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import { mayActOn, type Principal } from "../auth/principal.ts";
import { AppError } from "../errors/app-error.ts";

/** The operator, for every request when AUTH=off (local development only; warned at start). */
const authOffPrincipal: Principal = { kind: "admin", keyId: "auth-off" };

/** Subprotocol entry that carries a token on a browser's WebSocket upgrade: `aipack.token.<token>`. */
export const wsTokenProtocolPrefix = "aipack.token.";

/**
 * The bearer credential of a request: the Authorization header; on the WebSocket upgrade also a
 * `Sec-WebSocket-Protocol` entry or the `token` query parameter (browsers cannot set headers there).
 */
function readCredential(c: Context<AppEnv>, isUpgrade: boolean): string | undefined {
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = /^Bearer ([\x21-\x7e]{1,2048})$/.exec(header);
    if (!match) throw unauthorized(c, "The Authorization header must be: Bearer <key or token>");
    return match[1];
  }
  if (!isUpgrade) return undefined;
  const fromProtocol = (c.req.header("sec-websocket-protocol") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .find((entry) => entry.startsWith(wsTokenProtocolPrefix));
  if (fromProtocol) return fromProtocol.slice(wsTokenProtocolPrefix.length);
  return c.req.query("token");
}

function unauthorized(c: Context<AppEnv>, message: string): AppError {
  c.header("WWW-Authenticate", 'Bearer realm="aipack"');
  return new AppError("unauthorized", message);
}

/**
 * Establishes who the request acts as (`c.get("principal")`) or answers 401. The message never
 * says which check failed beyond "expired", so a caller cannot probe which keys exist.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async function authenticateMiddleware(c, next) {
    const { auth } = c.get("deps");
    if (!auth) {
      c.set("principal", authOffPrincipal);
      return next();
    }
    const credential = readCredential(c, c.req.path === "/api/ws");
    if (credential === undefined) throw unauthorized(c, "Send Authorization: Bearer <frontend key or user token>");
    const result = await auth.authenticate(credential);
    if (!result.ok) {
      throw unauthorized(c, result.reason === "expired" ? "The token has expired; get a new one from your backend" : "The key or token is not valid");
    }
    c.set("principal", result.principal);
    await next();
  };
}

/** Refuses (403) a principal of another frontend; called once the request's frontend is known. */
export function authorizeFrontend(c: Context<AppEnv>, frontend: string): void {
  const principal = c.get("principal") as Principal | undefined;
  // Fail closed: a route reached without the auth middleware acts for nobody.
  if (!principal) throw new AppError("unauthorized", "Send Authorization: Bearer <frontend key or user token>");
  if (!mayActOn(principal, frontend)) throw new AppError("forbidden", `This credential does not act on the ${frontend.slice(0, 40)} frontend`);
}

/** The user a user token acts for; undefined for a frontend key or the operator (any user). */
export function tokenUserId(c: Context<AppEnv>): string | undefined {
  const principal = c.get("principal");
  return principal.kind === "user" ? principal.userId : undefined;
}

/**
 * Answers for a row only to its owner when the caller is a user: someone else's row answers the
 * same 404 as a missing one, so ids cannot be probed.
 */
export function assertOwner(c: Context<AppEnv>, ownerUserId: string, notFoundMessage: string): void {
  const userId = tokenUserId(c);
  if (userId !== undefined && userId !== ownerUserId) throw new AppError("not_found", notFoundMessage);
}

/** Operator-only routes and details. */
export function isAdmin(c: Context<AppEnv>): boolean {
  return c.get("principal").kind === "admin";
}

/** Refuses (403) a user token where only a frontend's key (or the operator) may act, e.g. minting tokens. */
export function requireKey(): MiddlewareHandler<AppEnv> {
  return async function requireKeyMiddleware(c, next) {
    if (c.get("principal").kind === "user") throw new AppError("forbidden", "This needs the frontend's key (server side), not a user token");
    await next();
  };
}
