import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./app-env.ts";
import { AppError } from "../errors/app-error.ts";

/** Methods whose bodies the API never reads: their frontend and ids come from the path and query. */
export const bodilessMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "DELETE", "OPTIONS"]);

/**
 * Bounds every request body the API may read: none is read on GET/HEAD/DELETE/OPTIONS, and the
 * others (JSON) stop at `maxBytes` while streaming, before anything parses them. The upload route
 * (`skip`) brings its own, larger limit.
 */
export function boundBodies(options: { maxBytes: number; skip: (c: Context<AppEnv>) => boolean }): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw new AppError("body_too_large", `The request body is larger than ${options.maxBytes} bytes`);
    },
  });
  return async function boundBodiesMiddleware(c, next) {
    if (bodilessMethods.has(c.req.method) || options.skip(c)) return next();
    return limit(c, next);
  };
}

/**
 * Bounds the upload body at `maxBytes`. A declared Content-Length (the HTTP parser holds the body
 * to it) is judged from the header alone, without touching `c.req.raw.body`: on Node that getter
 * turns @hono/node-server's lightweight request into a web-stream Request, and the body is then
 * read through web streams instead of straight from the socket (about 2 ms of CPU per 1 MB
 * upload, bench/README.md). A chunked body is counted while streaming by Hono's bodyLimit.
 */
export function boundUploadBody(options: { maxBytes: number; onError: () => never }): MiddlewareHandler<AppEnv> {
  const streamed = bodyLimit({ maxSize: options.maxBytes, onError: options.onError });
  return async function boundUploadBodyMiddleware(c, next) {
    const declared = c.req.header("content-length");
    if (declared === undefined || c.req.header("transfer-encoding") !== undefined) return streamed(c, next);
    if (Number.parseInt(declared, 10) > options.maxBytes) options.onError();
    return next();
  };
}
