import type { AppDeps } from "./app-deps.ts";
import type { Principal } from "../auth/principal.ts";
import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";

/** The typed Hono environment: what middleware puts on the context for the routes. */
export interface AppEnv {
  Variables: {
    requestId: string;
    deps: AppDeps;
    /** Who the request acts as; set by the auth middleware on every /api route. */
    principal: Principal;
    /** Set by the frontend middleware. */
    frontend: Frontend;
    db: BaseDBController;
  };
}
