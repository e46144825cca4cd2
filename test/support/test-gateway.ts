import { onTestFinished } from "vitest";
import { createApp } from "../../src/app.ts";
import { loadConfig, type Config } from "../../src/config/config.ts";
import { knownFrontends } from "../../src/controllers/db-controller-map.ts";
import type { Clock } from "../../src/lib/clock.ts";
import { memoryLogger } from "../../src/lib/logger.ts";
import { buildDeps } from "../../src/server/build-deps.ts";
import { LiveTasks } from "../../src/tasks/live-tasks.ts";
import type { TaskContext } from "../../src/tasks/task-context.ts";
import { testAdminKey, withDefaultAuth } from "./credentials.ts";
import type { DialectCase } from "./dialects.ts";
import { relaxedLimitsEnv } from "./relaxed-limits.ts";

/** A gateway app over fresh databases of one dialect, closed when the test ends. */
export async function createTestGateway(dialect: DialectCase, extraEnv: Record<string, string | undefined> = {}, clock?: Clock) {
  const { env, cleanup } = dialect.env();
  onTestFinished(cleanup);
  const config: Config = loadConfig({ ...relaxedLimitsEnv, ADMIN_KEY: testAdminKey, ...env, ...extraEnv }, knownFrontends);
  const logger = memoryLogger();
  const built = await buildDeps(config, { logger, ...(clock ? { clock } : {}) });
  onTestFinished(() => built.close());
  const app = createApp(built.deps);
  // Requests carry the default credential unless the test sends its own Authorization header.
  const request = app.request;
  app.request = (input, init, ...rest) => request(input, withDefaultAuth("http://localhost/", init, testAdminKey), ...rest);
  return { app, deps: built.deps, config, logger };
}

/** The task modules' context over a test gateway's real parts (pool, storage, hub, databases); `parts` replaces some. */
export function taskContextOf(gateway: Awaited<ReturnType<typeof createTestGateway>>, parts: Partial<TaskContext> = {}): TaskContext {
  const { deps, logger } = gateway;
  return {
    gatewayId: "g",
    servers: deps.pool,
    storage: deps.storage,
    hub: deps.hub,
    live: new LiveTasks(),
    controllers: deps.controllers,
    workflows: deps.workflows,
    clock: deps.clock,
    logger,
    metrics: deps.metrics,
    ...parts,
  };
}

/** JSON request helper for app.request(). */
export function jsonRequest(method: string, body: unknown): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** A clock a test sets: rows get its time, and "today" is its day. */
export function settableClock(start: string): Clock & { set(iso: string): void } {
  let now = new Date(start);
  return { now: () => new Date(now), set: (iso) => (now = new Date(iso)) };
}
