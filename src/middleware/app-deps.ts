import type { GetConnInfo } from "hono/conninfo";
import type { UpgradeWebSocket } from "hono/ws";
import type { Limits } from "../config/limits.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { Admission } from "../limits/admission.ts";
import type { RateLimits } from "../limits/rate-limits.ts";
import type { TaskService } from "../tasks/task-service.ts";
import type { TaskHub } from "../realtime/task-hub.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ComfyPool } from "../pool/server-pool.ts";
import type { SocketQuota } from "../realtime/socket-quota.ts";
import type { SocketRegistry } from "../realtime/socket-registry.ts";
import type { Storage } from "../storage/index.ts";
import type { WorkflowCatalog } from "../workflows/index.ts";

/** Everything the app is built from; both runtimes and the tests wire it the same way. */
export interface AppDeps {
  /** The enabled frontends, each with the controller of its own database. */
  controllers: ReadonlyMap<Frontend, BaseDBController>;
  clock: Clock;
  /** Checks bearer credentials and mints user tokens; `null` when AUTH=off (every caller is the operator). */
  auth: Authenticator | null;
  /** DEMO_LOGIN=on: a key per frontend, made in memory at start, for the demo page's stand-in backend. */
  demoKeys?: ReadonlyMap<string, string>;
  /** How long the signed URL of an uploaded input, handed to its owner, stays valid. */
  inputUrlTtlSeconds: number;
  logger: Logger;
  metrics: Metrics;
  /** The bearer token that opens /metrics; unset keeps it shut. */
  metricsToken?: string;
  /** Readiness of the file store, cached for a few seconds (a probe write and delete, free space). */
  storageReady: () => Promise<void>;
  workflows: WorkflowCatalog;
  /** The ComfyUI servers, their health, and which one takes the next task. */
  pool: ComfyPool;
  tasks: TaskService;
  storage: Storage;
  /** Live task events, fanned out to WebSocket clients. */
  hub: TaskHub;
  /** Open client sockets, closed with 1001 at shutdown. */
  sockets: SocketRegistry;
  /** Open sockets per client address (and per user of a user token). */
  socketQuota: SocketQuota;
  /** Local storage's folder, served at /files; unset with OSS. */
  filesDir?: string;
  /** Local storage's URL signing secret (checks signed input URLs at /files). */
  filesUrlSecret?: string;
  maxUploadBytes: number;
  /** Browser origins allowed to call the REST API; empty: no CORS headers. */
  corsOrigins: readonly string[];
  /** Body, image, socket, rate and admission limits (src/limits/, README "Limits"). */
  limits: Limits;
  /** Request budgets per client (rate-limiter-flexible; Redis-backed with REDIS_URL). */
  rateLimits: RateLimits;
  /** Per-user task caps, frontend quotas and the pool's pending ceiling, asked before each submit. */
  admission: Admission;
  /** Whether a webhook may be sent to a resolved address (WEBHOOK_ALLOW_PRIVATE, WEBHOOK_ALLOWED_ADDRESSES). */
  webhookAddresses: (address: string) => boolean;
  /** The runtime's peer-address reader (Node: @hono/node-server/conninfo, Bun: hono/bun); unset in-process. */
  getConnInfo?: GetConnInfo;
  /** The runtime's WebSocket upgrade (Node: @hono/node-server, Bun: hono/bun); no ws route without it. */
  upgradeWebSocket?: UpgradeWebSocket;
}
