import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { createRouter, json, securitySchemes } from "../lib/openapi.ts";

/** The OpenAPI document's `info`, `tags` and security schemes: what the routes do not say themselves. */
const documentConfig = {
  openapi: "3.1.0",
  info: {
    title: "AIpack gateway",
    version: "0.1.0",
    description:
      "A gateway between AI-image frontends and a pool of ComfyUI servers. Every `/api` call carries " +
      "`Authorization: Bearer <frontend key | user token | admin key>` and names its `frontend`. Every error is " +
      "`{ error: { code, message, requestId, details? } }`. The progress WebSocket is described under `GET /api/ws` (`x-websocket`); the signed events the gateway POSTs to registered endpoints under `webhooks`.",
  },
  tags: [
    { name: "Users", description: "A frontend's users and their tokens" },
    { name: "Tasks", description: "Submit, poll, read and cancel tasks" },
    { name: "Workflows", description: "What a frontend can run" },
    { name: "Servers", description: "The ComfyUI pool" },
    { name: "Webhooks", description: "Signed events when a task changes (Standard Webhooks): the endpoints, and the events under `webhooks`" },
    { name: "Realtime", description: "The progress WebSocket" },
    { name: "Health", description: "Liveness and readiness probes" },
    { name: "Operations", description: "For operators" },
    { name: "Files", description: "Stored images (local storage)" },
    { name: "Page", description: "The demo page" },
    { name: "Documentation", description: "This document and its viewer" },
  ],
};

/** Registers the security schemes; all travel as `Authorization: Bearer`, told apart by their shape. */
function registerSecuritySchemes<E extends Env>(app: OpenAPIHono<E>): void {
  const bearer = (description: string, bearerFormat?: string) => ({ type: "http" as const, scheme: "bearer", description, ...(bearerFormat ? { bearerFormat } : {}) });
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", securitySchemes.frontendKey, bearer("A frontend's key (`aipk_<frontend>_<id>_<secret>`), held by that frontend's backend: acts on its own frontend, for any of its users; creates users and mints user tokens."));
  registry.registerComponent("securitySchemes", securitySchemes.userToken, bearer("A user token minted by `POST /api/tokens`: acts for one user of one frontend, on that user's own tasks, until it expires.", "JWT"));
  registry.registerComponent("securitySchemes", securitySchemes.adminKey, bearer("The operator's key (`ADMIN_KEY` or a minted admin key): every frontend, every detail."));
  registry.registerComponent("securitySchemes", securitySchemes.metricsToken, bearer("`METRICS_TOKEN`, for the Prometheus scraper."));
}

// Swagger UI from the npm package, served by the gateway itself: a self-hosted gateway needs no CDN.
const swaggerDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const swaggerFiles: Record<string, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

// Our own start script, so the page needs no inline script and the CSP can forbid them.
const startScript = `window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs", deepLinking: true, tryItOutEnabled: false, persistAuthorization: false });
});
`;

const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AIpack gateway API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body>
</html>
`;

// Swagger UI sets inline styles and draws data: SVG icons; it fetches only our own document.
const docsCsp = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const openApiRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["Documentation"],
  summary: "This OpenAPI 3.1 document",
  security: [],
  responses: { 200: json(z.looseObject({ openapi: z.string() }), "The document") },
});

const docsRoute = createRoute({
  method: "get",
  path: "/docs",
  tags: ["Documentation"],
  summary: "Interactive documentation (Swagger UI)",
  security: [],
  responses: { 200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } } },
});

const docsAssetRoute = createRoute({
  method: "get",
  path: "/docs/assets/{file}",
  tags: ["Documentation"],
  summary: "The documentation page's scripts and styles",
  security: [],
  request: { params: z.object({ file: z.string() }) },
  responses: { 200: { description: "The file" }, 404: { description: "No such file" } },
});

/**
 * GET /openapi.json (the document of `app`, built from its routes' zod schemas at the first
 * request), GET /docs (Swagger UI) and its assets. Mount at the root after every other route.
 */
export function createDocsRouter(app: OpenAPIHono<AppEnv>) {
  registerSecuritySchemes(app);
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  const router = createRouter<AppEnv>()
    .openapi(openApiRoute, (c) => {
      document ??= app.getOpenAPI31Document(documentConfig);
      return c.json(document, 200);
    })
    .openapi(docsRoute, (c) => {
      c.header("Content-Security-Policy", docsCsp);
      c.header("Cache-Control", "no-cache");
      return c.html(docsPage, 200);
    });
  router.get("/docs/assets/:file", async (c) => {
    const file = c.req.param("file");
    c.header("Cache-Control", "public, max-age=3600");
    if (file === "start.js") return c.body(startScript, 200, { "Content-Type": "text/javascript; charset=utf-8" });
    const type = Object.hasOwn(swaggerFiles, file) ? swaggerFiles[file] : undefined;
    if (!type) return c.json({ error: { code: "not_found", message: "No such file", requestId: c.get("requestId") } }, 404);
    return c.body(new Uint8Array(await readFile(path.join(swaggerDir, file))), 200, { "Content-Type": type });
  });
  router.openAPIRegistry.registerPath(docsAssetRoute);
  return router;
}
