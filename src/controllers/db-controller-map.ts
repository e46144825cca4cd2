import type { Database } from "../db/database.ts";
import type { Clock } from "../lib/clock.ts";
import type { BaseDBController } from "./base-db-controller.ts";
import { LogoDBController } from "./logo-db-controller.ts";
import { StyleDBController } from "./style-db-controller.ts";

/**
 * The one place that maps a frontend name to its DBController. A new frontend is one controller
 * file plus one line here (and its workflow templates under workflows/<name>/).
 */
export const dbControllerMap = {
  style: StyleDBController,
  logo: LogoDBController,
} satisfies Record<string, new (frontend: string, database: Database, clock: Clock) => BaseDBController>;

export type Frontend = keyof typeof dbControllerMap;
export const knownFrontends = Object.keys(dbControllerMap) as Frontend[];

export function isKnownFrontend(name: string): name is Frontend {
  return Object.hasOwn(dbControllerMap, name);
}

/** Builds the controller of a frontend over its database. */
export function createDBController(frontend: Frontend, database: Database, clock: Clock): BaseDBController {
  return new dbControllerMap[frontend](frontend, database, clock);
}
