import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { createRoute } from "@hono/zod-openapi";
import { Hono, type Context } from "hono";
import { z } from "zod";
import { errorResponses } from "../lib/openapi.ts";
import { contentTypeForExtension } from "../storage/content-types.ts";
import { isObjectKey, keyExtension } from "../storage/keys.ts";
import { isPrivateKey, verifySignedQuery } from "../storage/signed-urls.ts";

/** Options of the local file server. */
export interface LocalFilesRouterOptions {
  /** The same folder given to createLocalStorage. */
  dir: string;
  /** Checks the signed URLs of private files (uploads under `<frontend>/inputs/`). */
  urlSecret: string;
}

const filesPrefix = "/files/";

function notFound(c: Context) {
  return c.json({ error: { code: "not_found", message: "File not found" } }, 404);
}

// Decodes the raw path ourselves so `%2e%2e%2f` and friends are judged after decoding.
function keyFromUrl(url: string): string | null {
  const pathname = new URL(url).pathname;
  if (!pathname.startsWith(filesPrefix)) return null;
  try {
    return pathname.slice(filesPrefix.length).split("/").map(decodeURIComponent).join("/");
  } catch {
    return null;
  }
}

// A web stream over the file that reads on demand and closes the file if the client goes away.
function fileStream(file: string): ReadableStream<Uint8Array> {
  const source = createReadStream(file);
  const chunks = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value as Buffer));
    },
    cancel() {
      source.destroy();
    },
  });
}

/** `GET /files/{key}` in the OpenAPI document (a wildcard route, so described beside it). */
export const filesRouteDoc = createRoute({
  method: "get",
  path: "/files/{key}",
  tags: ["Files"],
  summary: "A stored image (local storage)",
  description:
    "Outputs are public and immutable. Uploaded inputs (`<frontend>/inputs/...`) need the signed, expiring URL a task's `inputUrl` gives.",
  security: [],
  request: {
    params: z.object({ key: z.string().meta({ description: "The object key, slashes included, e.g. `style/2025/01/abcdefgh.webp`" }) }),
    query: z.object({ expires: z.string().optional(), signature: z.string().optional() }),
  },
  responses: {
    200: { description: "The file", content: { "image/*": { schema: z.string().meta({ format: "binary" }) } } },
    ...errorResponses("forbidden", "not_found", "rate_limited"),
  },
});

/**
 * Serves files written by createLocalStorage at `GET /files/<key>`; mount with `app.route("/", router)`.
 * Only keys shaped like newObjectKey output are opened, and the resolved path must stay inside `dir`,
 * so traversal and hidden or temporary files answer 404. Keys never change content, hence the
 * year-long immutable cache.
 */
export function createLocalFilesRouter(options: LocalFilesRouterOptions): Hono {
  const root = path.resolve(options.dir);
  const router = new Hono();

  router.get("/files/*", async (c) => {
    const key = keyFromUrl(c.req.url);
    if (key === null || !isObjectKey(key)) return notFound(c);
    const isPrivate = isPrivateKey(key);
    // Judged before the disk is touched, so an unsigned request learns nothing about what exists.
    if (isPrivate && !verifySignedQuery(options.urlSecret, key, c.req.query(), Math.floor(Date.now() / 1000))) {
      return c.json({ error: { code: "forbidden", message: "This file needs a valid, unexpired signed URL" } }, 403);
    }
    const file = path.resolve(root, ...key.split("/"));
    if (!file.startsWith(root + path.sep)) return notFound(c);

    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return notFound(c);

    c.header("Content-Type", contentTypeForExtension(keyExtension(key)));
    c.header("Content-Length", String(info.size));
    // A signed URL may be cached by its holder only, and not past its expiry.
    c.header("Cache-Control", isPrivate ? "private, max-age=300" : "public, max-age=31536000, immutable");
    // Files are user-influenced images: never let a browser sniff or run them as something else.
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Content-Security-Policy", "default-src 'none'; sandbox");
    if (c.req.method === "HEAD") return c.body(null, 200);
    return c.body(fileStream(file), 200);
  });

  return router;
}
