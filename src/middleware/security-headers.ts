import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./app-env.ts";

/**
 * hono/secure-headers on every HTTP answer but the WebSocket upgrade (header-changing middleware
 * breaks it): nosniff, frame and referrer policies. HSTS is left to the TLS proxy in front, and
 * the resource policy stays open so frontends on other origins can show /files images.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  const headers = secureHeaders({ strictTransportSecurity: false, crossOriginResourcePolicy: false, crossOriginOpenerPolicy: false });
  return async function securityHeadersMiddleware(c, next) {
    if (c.req.path === "/api/ws") return next();
    return headers(c, next);
  };
}
