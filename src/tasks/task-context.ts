import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Storage } from "../storage/index.ts";
import type { WorkflowCatalog } from "../workflows/index.ts";
import type { TaskServers } from "./task-servers.ts";
import type { LiveTasks } from "./live-tasks.ts";
import type { TaskHub } from "../realtime/task-hub.ts";
import type { OutboxSignal } from "../webhooks/webhook-sender.ts";

/** What the task modules share; built once by TaskService. */
export interface TaskContext {
  /** This replica's id: recorded on the tasks it submits, which are the ones it follows. */
  gatewayId: string;
  servers: TaskServers;
  storage: Storage;
  hub: TaskHub;
  live: LiveTasks;
  controllers: ReadonlyMap<Frontend, BaseDBController>;
  workflows: WorkflowCatalog;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Told when webhook outbox rows were written with a task's change, so the sender sends them now. */
  outbox?: OutboxSignal;
}

export function controllerOf(ctx: TaskContext, frontend: Frontend): BaseDBController {
  const controller = ctx.controllers.get(frontend);
  if (!controller) throw new Error(`frontend ${frontend} is not enabled`);
  return controller;
}
