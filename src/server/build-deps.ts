import type { AppDeps } from "../app-deps.ts";
import type { Config } from "../config/config.ts";
import type { BaseDBController } from "../controllers/base-db-controller.ts";
import { createDBController, type Frontend } from "../controllers/db-controller-map.ts";
import { openDatabase } from "../db/open-database.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { consoleLogger, type Logger } from "../lib/logger.ts";

export interface BuiltDeps {
  deps: AppDeps;
  /** Releases every pool and connection the deps hold. */
  close(): Promise<void>;
}

/** Wires the real dependencies from the configuration; shared by both runtime entries and tests. */
export function buildDeps(config: Config, options: { clock?: Clock; logger?: Logger } = {}): BuiltDeps {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? consoleLogger;
  const controllers = new Map<Frontend, BaseDBController>();
  for (const frontend of config.frontends as Frontend[]) {
    const target = config.databases[frontend];
    if (!target) throw new Error(`no database target for ${frontend}`);
    controllers.set(frontend, createDBController(frontend, openDatabase(target), clock));
  }
  return {
    deps: { controllers, clock, logger },
    close: async () => {
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
