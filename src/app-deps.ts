import type { BaseDBController } from "./controllers/base-db-controller.ts";
import type { Frontend } from "./controllers/db-controller-map.ts";
import type { Clock } from "./lib/clock.ts";
import type { Logger } from "./lib/logger.ts";

/** Everything the app is built from; both runtimes and the tests wire it the same way. */
export interface AppDeps {
  /** The enabled frontends, each with the controller of its own database. */
  controllers: ReadonlyMap<Frontend, BaseDBController>;
  clock: Clock;
  logger: Logger;
}
