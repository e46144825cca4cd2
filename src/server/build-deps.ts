import type { GetConnInfo } from "hono/conninfo";
import type { UpgradeWebSocket } from "hono/ws";
import { Admission } from "../limits/admission.ts";
import { createRateLimits } from "../limits/rate-limits.ts";
import type { AppDeps } from "../middleware/app-deps.ts";
import type { Config } from "../config/config.ts";
import type { BaseDBController } from "../controllers/base-db-controller.ts";
import { createDBController, type Frontend } from "../controllers/db-controller-map.ts";
import { openDatabase } from "../db/open-database.ts";
import { TaskService } from "../tasks/task-service.ts";
import { LiveTasks } from "../tasks/live-tasks.ts";
import { TaskHub } from "../realtime/task-hub.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { cachedCheck } from "../lib/cached-check.ts";
import { createLogger, type Logger } from "../lib/logger.ts";
import { Metrics } from "../lib/metrics.ts";
import { collectLiveGauges, poolEventObserver } from "./observe.ts";
import { redisOwnerLeases, soleReplica } from "../realtime/owner-leases.ts";
import { inProcessLease, redisDispatchLease } from "../realtime/dispatch-lease.ts";
import { ComfyPool } from "../pool/server-pool.ts";
import { SocketQuota } from "../realtime/socket-quota.ts";
import { SocketRegistry } from "../realtime/socket-registry.ts";
import { createStorage } from "../storage/index.ts";
import { loadWorkflows } from "../workflows/index.ts";
import { instanceId } from "./instance-id.ts";
import { urlSigningSecret } from "./url-secret.ts";
import { Authenticator } from "../auth/authenticator.ts";
import { generateKey } from "../lib/key-format.ts";
import { createRedisRelay } from "../realtime/redis-relay.ts";
import { randomId } from "../lib/ids.ts";
import { addressGuard } from "../webhooks/destination.ts";
import { WebhookSender } from "../webhooks/webhook-sender.ts";

export interface BuiltDeps {
  deps: AppDeps;
  /** Resolves once cross-replica events flow (at once without Redis). */
  relayReady: Promise<void>;
  /**
   * Starts background work: pool checks, and following tasks left unfinished by a previous run.
   * Resolves once those tasks are picked up (nothing need wait for it; tests do, to start settled).
   */
  start(): Promise<void>;
  /** Stops background work and releases every pool and connection the deps hold. */
  close(): Promise<void>;
}

export interface BuildOptions {
  clock?: Clock;
  logger?: Logger;
  upgradeWebSocket?: UpgradeWebSocket;
  getConnInfo?: GetConnInfo;
  /** Node process metrics (memory, event-loop lag, GC) on /metrics; the runtime entries turn them on. */
  processMetrics?: boolean;
}

/** How long a storage readiness probe (a write and a delete) is reused. */
const storageCheckTtlMs = 5_000;

/** Each enabled frontend's controller over its own database (no connection is made yet). */
export function openControllers(config: Config, clock: Clock): Map<Frontend, BaseDBController> {
  const controllers = new Map<Frontend, BaseDBController>();
  for (const frontend of config.frontends as Frontend[]) {
    const target = config.databases[frontend];
    if (!target) throw new Error(`no database target for ${frontend}`);
    controllers.set(frontend, createDBController(frontend, openDatabase(target, { queueLimit: config.limits.dbQueueLimit }), clock));
  }
  return controllers;
}

/**
 * Wires the real dependencies from the configuration; shared by both runtime entries and tests.
 * Throws WorkflowConfigError when a workflow template is broken.
 */
export async function buildDeps(config: Config, options: BuildOptions = {}): Promise<BuiltDeps> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = new Metrics({ processMetrics: options.processMetrics ?? false });
  const workflows = await loadWorkflows(config.workflowsDir, config.frontends);
  const controllers = openControllers(config, clock);
  const urlSecret = urlSigningSecret(config.dataDir, config.auth.urlSigningSecret);
  const storage = createStorage(config.storage, { urlSecret });
  const gatewayId = instanceId(config.dataDir, config.instanceId);
  const webhookAddresses = addressGuard({ allowPrivate: config.webhooks.allowPrivate, allowed: config.webhooks.allowedAddresses });
  const observePool = poolEventObserver(logger, metrics);
  const pool = new ComfyPool({
    clientId: () => `aipack-${gatewayId}`,
    servers: config.comfyServers,
    requestTimeoutMs: config.comfyTimeoutMs,
    intervalMs: config.poolCheckIntervalMs,
    downAfter: config.poolFailuresBeforeDown,
    maxViewBytes: config.limits.maxViewBytes,
    onEvent: (event) => {
      observePool(event);
      // A server that comes up may take waiting tasks.
      if (event.type === "server-up") tasks.queueChanged();
    },
  });
  const hub = new TaskHub();
  const relay = config.redis
    ? createRedisRelay({ ...config.redis, origin: `${gatewayId}:${randomId(6)}`, hub, logger })
    : null;
  if (relay) hub.useRelay(relay);
  // Several replicas share Redis: leases there tell which are alive (no table, no migration).
  const leases = config.redis
    ? redisOwnerLeases({ url: config.redis.url, namespace: config.redis.channel, gatewayId, ttlMs: config.leaseTtlMs, logger })
    : soleReplica;
  const webhooks = new WebhookSender(
    controllers,
    { clock, logger, metrics },
    { gatewayId, timeoutMs: config.webhooks.timeoutMs, retryForMs: config.webhooks.retryForMs, baseMs: config.webhooks.retryBaseMs, allowed: webhookAddresses },
  );
  const tasks = new TaskService(
    { gatewayId, servers: pool, storage, hub, live: new LiveTasks(), controllers, workflows, clock, logger, metrics, outbox: webhooks },
    {
      lostAfterMs: config.comfyLostAfterMs,
      queueReadWindowMs: config.queueReadWindowMs,
      reconcileIntervalMs: config.reconcileIntervalMs,
      leases,
      scheduling: {
        ...config.scheduling,
        // Several replicas (they share Redis): one dispatches at a time. One process: this one.
        lease: config.redis
          ? redisDispatchLease({ url: config.redis.url, namespace: config.redis.channel, gatewayId, ttlMs: config.scheduling.leaseMs, logger })
          : inProcessLease,
      },
    },
  );
  const sockets = new SocketRegistry();
  collectLiveGauges(metrics, pool, sockets);
  // The demo's stand-in backend gets one key per frontend, known only to this process.
  const demoKeys = config.auth.demoLogin ? new Map(config.frontends.map((frontend) => [frontend, generateKey(frontend).key])) : undefined;
  const deps: AppDeps = {
    controllers,
    clock,
    logger,
    metrics,
    metricsToken: config.metricsToken,
    storageReady: cachedCheck(() => storage.check(), storageCheckTtlMs),
    auth: config.auth.enabled
      ? new Authenticator({ controllers, clock, dataDir: config.dataDir, adminKey: config.auth.adminKey, envKeys: [...config.auth.envKeys, ...(demoKeys?.values() ?? [])] })
      : null,
    inputUrlTtlSeconds: config.auth.inputUrlTtlSeconds,
    demoKeys,
    hub,
    sockets,
    socketQuota: new SocketQuota({ address: config.limits.ws.perAddress, user: config.limits.ws.perUser }),
    upgradeWebSocket: options.upgradeWebSocket,
    workflows,
    pool,
    tasks,
    storage,
    filesDir: config.storage.kind === "local" ? config.storage.dir : undefined,
    filesUrlSecret: urlSecret,
    maxUploadBytes: config.maxUploadBytes,
    corsOrigins: config.corsOrigins,
    limits: config.limits,
    rateLimits: createRateLimits(config.limits, { redisUrl: config.redis?.url, logger }),
    getConnInfo: options.getConnInfo,
    admission: new Admission(config.limits, pool, clock, config.scheduling.policy === "late" ? (frontend) => tasks.queuedCount(frontend) : null),
    webhookAddresses,
  };
  return {
    deps,
    relayReady: relay ? relay.ready : Promise.resolve(),
    start: async () => {
      pool.start();
      await Promise.all([tasks.resume(), webhooks.start()]);
    },
    close: async () => {
      webhooks.close();
      await tasks.close();
      await leases.close();
      pool.close();
      await relay?.close();
      await deps.rateLimits.close();
      await Promise.allSettled([...controllers.values()].map((controller) => controller.close()));
    },
  };
}

/** Migrates every frontend database now; a database that is down is retried on first use. */
export async function prepareDatabases(deps: AppDeps): Promise<void> {
  await Promise.all(
    [...deps.controllers].map(async ([frontend, controller]) => {
      try {
        await controller.ready();
        deps.logger.info("database ready", { frontend, database: controller.label });
      } catch (error) {
        deps.logger.warn("database not ready; will retry on first use", { frontend, database: controller.label, error: String(error) });
      }
    }),
  );
}
