import type { Context } from "hono";
import { cors } from "hono/cors";
import type { AppDeps } from "./middleware/app-deps.ts";
import type { AppEnv } from "./middleware/app-env.ts";
import { notFound, onError } from "./middleware/on-error.ts";
import { boundBodies } from "./middleware/body-bounds.ts";
import { injectDeps } from "./middleware/inject-deps.ts";
import { rateLimit } from "./middleware/rate-limit.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { requestId } from "./middleware/request-id.ts";
import { accessLog } from "./middleware/access-log.ts";
import { createMetricsRouter } from "./routes/metrics.ts";
import { authenticate } from "./middleware/auth.ts";
import { createTokensRouter } from "./routes/tokens.ts";
import { createDemoLoginRouter, demoLoginRouteDoc } from "./routes/demo-login.ts";
import { createHealthRouter } from "./routes/health.ts";
import { createQueueRouter } from "./routes/queue.ts";
import { createServersRouter } from "./routes/servers.ts";
import { createTasksRouter } from "./routes/tasks.ts";
import { createUsersRouter } from "./routes/users.ts";
import { createWebhooksRouter, webhookEventDocs } from "./routes/webhooks.ts";
import { createWorkflowsRouter } from "./routes/workflows.ts";
import { createWsRouter, wsRouteDoc } from "./routes/ws.ts";
import { createLocalFilesRouter, filesRouteDoc } from "./routes/files.ts";
import { createPageRouter, pageRouteDocs } from "./routes/page.ts";
import { createDocsRouter } from "./routes/openapi.ts";
import { createRouter } from "./lib/openapi.ts";
import { fileURLToPath } from "node:url";

const publicDir = fileURLToPath(new URL("../public", import.meta.url));

/**
 * Builds the whole HTTP app from injected parts; runtime entries only serve it. The REST routers
 * are mounted in one chain so the returned app's type carries every route (`AppType`, for
 * `hc<AppType>`); routes that are not REST (the socket, files, the page) are described in the
 * OpenAPI document with `registerPath` where they are mounted.
 */
export function createApp(deps: AppDeps) {
  const app = createRouter<AppEnv>();
  app.use(requestId(), injectDeps(deps), accessLog(), securityHeaders());
  // Uploads bring their own larger limit and deadline (routes/tasks.ts); every other body is small.
  const isUpload = (c: Context<AppEnv>) => c.req.method === "POST" && c.req.path === "/api/tasks";
  app.use("/files/*", rateLimit());
  app.onError(onError);
  app.notFound(notFound);
  // CORS only on the REST routes: the ws upgrade must not get header-changing middleware.
  if (deps.corsOrigins.length > 0) {
    const origin = deps.corsOrigins.includes("*") ? "*" : [...deps.corsOrigins];
    const rest = cors({ origin, allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"], exposeHeaders: ["X-Request-Id", "Server-Timing", "Retry-After", "RateLimit", "RateLimit-Policy"], maxAge: 600 });
    app.use("/api/*", async (c, next) => (c.req.path === "/api/ws" ? next() : rest(c, next)));
  }
  // Every /api route acts for a proven caller (after CORS, so preflights need no credential), and
  // spends the budget of that caller (rate-limit.ts rateKey); a refused credential still spends its
  // address's budget, so guessing keys is limited too. Budgets are spent before any body is read.
  const authenticateCaller = authenticate();
  const limitRate = rateLimit();
  app.use("/api/*", async (c, next) => {
    let refusal: { error: unknown } | undefined;
    try {
      await authenticateCaller(c, async () => {});
    } catch (error) {
      refusal = { error };
    }
    return limitRate(c, async () => {
      if (refusal) throw refusal.error;
      await next();
    });
  });
  app.use(boundBodies({ maxBytes: deps.limits.maxJsonBytes, skip: isUpload }));
  const api = app
    .route("/", createHealthRouter())
    .route("/metrics", createMetricsRouter(deps.metricsToken))
    .route("/api/tokens", createTokensRouter())
    .route("/api/users", createUsersRouter())
    .route("/api/workflows", createWorkflowsRouter())
    .route("/api/servers", createServersRouter())
    .route("/api/tasks", createTasksRouter(deps.maxUploadBytes))
    .route("/api/queue", createQueueRouter())
    .route("/api/webhooks", createWebhooksRouter());
  const describe = app.openAPIRegistry;
  for (const doc of webhookEventDocs) describe.registerWebhook(doc);
  if (deps.upgradeWebSocket) {
    app.route("/api/ws", createWsRouter(deps.upgradeWebSocket));
    describe.registerPath(wsRouteDoc);
  }
  if (deps.filesDir) {
    app.route("/", createLocalFilesRouter({ dir: deps.filesDir, urlSecret: deps.filesUrlSecret ?? "" }));
    describe.registerPath(filesRouteDoc);
  }
  if (deps.demoKeys) {
    app.route("/demo", createDemoLoginRouter((path, init) => app.request(path, init), deps.demoKeys));
    describe.registerPath(demoLoginRouteDoc);
  }
  app.route("/", createPageRouter({ publicDir }));
  for (const doc of pageRouteDocs) describe.registerPath(doc);
  app.route("/", createDocsRouter(app));
  return api;
}

/** The app with every REST route in its type. */
export type App = ReturnType<typeof createApp>;

/** For a typed client: `hc<AppType>(url)` from `hono/client`. */
export type AppType = App;
