import { Hono, type Context } from "hono";
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
import { createHealthRouter } from "./routes/health.ts";
import { createQueueRouter } from "./routes/queue.ts";
import { createServersRouter } from "./routes/servers.ts";
import { createTasksRouter } from "./routes/tasks.ts";
import { createUsersRouter } from "./routes/users.ts";
import { createWorkflowsRouter } from "./routes/workflows.ts";
import { createWsRouter } from "./routes/ws.ts";
import { createLocalFilesRouter } from "./routes/files.ts";
import { createPageRouter } from "./routes/page.ts";
import { fileURLToPath } from "node:url";

const publicDir = fileURLToPath(new URL("../public", import.meta.url));

/** Builds the whole HTTP app from injected parts; runtime entries only serve it. */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use(requestId(), injectDeps(deps), accessLog(), securityHeaders());
  // Uploads bring their own larger limit and deadline (routes/tasks.ts); every other body is small.
  const isUpload = (c: Context<AppEnv>) => c.req.method === "POST" && c.req.path === "/api/tasks";
  // Budgets are spent before any body is read, so a refused client costs no parsing.
  app.use("/api/*", rateLimit());
  app.use("/files/*", rateLimit());
  app.use(boundBodies({ maxBytes: deps.limits.maxJsonBytes, skip: isUpload }));
  app.onError(onError);
  app.notFound(notFound);
  // CORS only on the REST routes: the ws upgrade must not get header-changing middleware.
  if (deps.corsOrigins.length > 0) {
    const origin = deps.corsOrigins.includes("*") ? "*" : [...deps.corsOrigins];
    const rest = cors({ origin, allowHeaders: ["Content-Type", "Idempotency-Key", "X-Request-Id"], exposeHeaders: ["X-Request-Id", "Server-Timing", "Retry-After", "RateLimit", "RateLimit-Policy"], maxAge: 600 });
    app.use("/api/*", async (c, next) => (c.req.path === "/api/ws" ? next() : rest(c, next)));
  }
  app.route("/", createHealthRouter());
  app.route("/metrics", createMetricsRouter(deps.metricsToken));
  app.route("/api/users", createUsersRouter());
  app.route("/api/workflows", createWorkflowsRouter());
  app.route("/api/servers", createServersRouter());
  app.route("/api/tasks", createTasksRouter(deps.maxUploadBytes));
  app.route("/api/queue", createQueueRouter());
  if (deps.upgradeWebSocket) app.route("/api/ws", createWsRouter(deps.upgradeWebSocket));
  if (deps.filesDir) app.route("/", createLocalFilesRouter({ dir: deps.filesDir }));
  app.route("/", createPageRouter({ publicDir }));
  return app;
}

export type App = ReturnType<typeof createApp>;
