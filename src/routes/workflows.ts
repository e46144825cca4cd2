import { Hono } from "hono";
import type { AppEnv } from "../middleware/app-env.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { describeWorkflows } from "../workflows/index.ts";

/** GET /api/workflows?frontend=: a frontend's templates and their parameters. */
export function createWorkflowsRouter() {
  return new Hono<AppEnv>().get("/", resolveFrontend(), (c) =>
    c.json({ frontend: c.get("frontend"), workflows: describeWorkflows(c.get("deps").workflows.list(c.get("frontend"))) }),
  );
}
