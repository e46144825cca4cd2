import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Storage } from "../storage/index.ts";
import type { WorkflowCatalog } from "../workflows/index.ts";
import type { JobServers } from "./job-servers.ts";
import type { LiveJobs } from "./live-jobs.ts";
import type { TaskHub } from "./task-hub.ts";

/** What the job modules share; built once by JobService. */
export interface JobContext {
  /** This replica's id: recorded on the jobs it submits, which are the ones it follows. */
  gatewayId: string;
  servers: JobServers;
  storage: Storage;
  hub: TaskHub;
  live: LiveJobs;
  controllers: ReadonlyMap<Frontend, BaseDBController>;
  workflows: WorkflowCatalog;
  clock: Clock;
  logger: Logger;
}

export function controllerOf(ctx: JobContext, frontend: Frontend): BaseDBController {
  const controller = ctx.controllers.get(frontend);
  if (!controller) throw new Error(`frontend ${frontend} is not enabled`);
  return controller;
}
