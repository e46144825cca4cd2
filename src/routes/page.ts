import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { createRoute } from "@hono/zod-openapi";
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";

/** Options of the page router. */
export interface PageRouterOptions {
  /** The folder holding index.html and the page's assets (the repository's `public/`). */
  publicDir: string;
}

const assetsPrefix = "/assets/";

// Only what the page is made of; anything else (including unknown extensions) answers 404 rather
// than being served under a guessed type.
const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

// No build step means no hashed file names: keep caches short and let ETags make revalidation cheap.
const assetCacheControl = "public, max-age=60, must-revalidate";
const pageCacheControl = "no-cache";

// The page talks only to its own origin; result images may come from object storage elsewhere.
const pageCsp = [
  "default-src 'self'",
  "img-src 'self' data: blob: http: https:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

function notFound(c: Context<AppEnv>, message: string) {
  return c.json({ error: { code: "not_found", message, requestId: c.get("requestId") } }, 404);
}

/**
 * The path below `/assets/` as safe segments, or null. Decoded here, segment by segment, so
 * `..%2f`, `%5c` and NUL are judged after decoding; dot-files and empty segments are refused too.
 */
export function assetSegments(url: string): string[] | null {
  const pathname = new URL(url).pathname;
  if (!pathname.startsWith(assetsPrefix)) return null;
  const segments: string[] = [];
  for (const raw of pathname.slice(assetsPrefix.length).split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === "" || segment.startsWith(".") || /[/\\\0:]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments.length > 0 ? segments : null;
}

/** The file's real path when it is a regular file inside `root` (symlinks resolved), else null. */
async function fileInside(root: string, segments: string[]) {
  const candidate = path.resolve(root, ...segments);
  if (!candidate.startsWith(root + path.sep)) return null;
  const real = await realpath(candidate).catch(() => null);
  const realRoot = await realpath(root).catch(() => null);
  if (!real || !realRoot || !real.startsWith(realRoot + path.sep)) return null;
  const info = await stat(real).catch(() => null);
  return info?.isFile() ? { file: real, info } : null;
}

async function sendFile(c: Context<AppEnv>, found: { file: string; info: { size: number; mtimeMs: number } }, cacheControl: string) {
  const type = contentTypes[path.extname(found.file).toLowerCase()];
  if (!type) return notFound(c, "No such asset");
  const etag = `W/"${found.info.size.toString(16)}-${Math.floor(found.info.mtimeMs).toString(16)}"`;
  c.header("ETag", etag);
  c.header("Cache-Control", cacheControl);
  c.header("X-Content-Type-Options", "nosniff");
  if (c.req.header("if-none-match") === etag) return c.body(null, 304);
  c.header("Content-Type", type);
  return c.body(new Uint8Array(await readFile(found.file)), 200);
}

/** The page's routes in the OpenAPI document. */
export const pageRouteDocs = [
  createRoute({
    method: "get",
    path: "/",
    tags: ["Page"],
    summary: "The live task page",
    security: [],
    responses: { 200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } }, 404: { description: "The page is not installed" } },
  }),
  createRoute({
    method: "get",
    path: "/assets/{path}",
    tags: ["Page"],
    summary: "The page's scripts and styles",
    security: [],
    request: { params: z.object({ path: z.string().meta({ description: "A file under public/, slashes included" }) }) },
    responses: { 200: { description: "The file" }, 304: { description: "Not modified (ETag)" }, 404: { description: "No such asset" } },
  }),
];

/**
 * `GET /` (the live task page) and `GET /assets/*` (its scripts and styles, from `publicDir`).
 * Mount at the root: `app.route("/", createPageRouter({ publicDir }))`. Files are small, so they
 * are read whole rather than streamed.
 */
export function createPageRouter({ publicDir }: PageRouterOptions) {
  const root = path.resolve(publicDir);
  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const found = await fileInside(root, ["index.html"]);
      if (!found) return notFound(c, "The page is not installed (public/index.html is missing)");
      c.header("Content-Security-Policy", pageCsp);
      c.header("Referrer-Policy", "no-referrer");
      return sendFile(c, found, pageCacheControl);
    })
    .get("/assets/*", async (c) => {
      const segments = assetSegments(c.req.url);
      const found = segments && (await fileInside(root, segments));
      if (!found) return notFound(c, "No such asset");
      return sendFile(c, found, assetCacheControl);
    });
}
