import { Hono } from "hono";
import { cors } from "hono/cors";
import type { AppDeps } from "./middleware/app-deps.ts";
import type { AppEnv } from "./middleware/app-env.ts";
import { notFound, onError } from "./middleware/on-error.ts";
import { injectDeps } from "./middleware/inject-deps.ts";
import { requestId } from "./middleware/request-id.ts";
import { authenticate } from "./middleware/auth.ts";
import { createTokensRouter } from "./routes/tokens.ts";
import { createDemoLoginRouter } from "./routes/demo-login.ts";
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
  app.use(requestId(), injectDeps(deps));
  app.onError(onError);
  app.notFound(notFound);
  // CORS only on the REST routes: the ws upgrade must not get header-changing middleware.
  if (deps.corsOrigins.length > 0) {
    const origin = deps.corsOrigins.includes("*") ? "*" : [...deps.corsOrigins];
    const rest = cors({ origin, allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"], exposeHeaders: ["X-Request-Id", "Server-Timing"], maxAge: 600 });
    app.use("/api/*", async (c, next) => (c.req.path === "/api/ws" ? next() : rest(c, next)));
  }
  // Every /api route acts for a proven caller (after CORS, so preflights need no credential).
  app.use("/api/*", authenticate());
  app.route("/", createHealthRouter());
  app.route("/api/tokens", createTokensRouter());
  app.route("/api/users", createUsersRouter());
  app.route("/api/workflows", createWorkflowsRouter());
  app.route("/api/servers", createServersRouter());
  app.route("/api/tasks", createTasksRouter(deps.maxUploadBytes));
  app.route("/api/queue", createQueueRouter());
  if (deps.upgradeWebSocket) app.route("/api/ws", createWsRouter(deps.upgradeWebSocket));
  if (deps.filesDir) app.route("/", createLocalFilesRouter({ dir: deps.filesDir, urlSecret: deps.filesUrlSecret ?? "" }));
  if (deps.demoKeys) app.route("/demo", createDemoLoginRouter((path, init) => app.request(path, init), deps.demoKeys));
  app.route("/", createPageRouter({ publicDir }));
  return app;
}

export type App = ReturnType<typeof createApp>;
