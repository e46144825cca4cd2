import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { anyCaller, apiErrors, createRouter, errorResponses, frontendErrors, json } from "../lib/openapi.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { describeWorkflows, workflowDescriptionSchema } from "../workflows/index.ts";

const listWorkflows = createRoute({
  method: "get",
  path: "/",
  tags: ["Workflows"],
  summary: "A frontend's workflow templates and their parameters",
  description: "What a submit may name in `workflow`, and what its `params` may hold.",
  security: anyCaller,
  middleware: [resolveFrontend()],
  request: { query: z.object({ frontend: z.string() }) },
  responses: {
    200: json(z.object({ frontend: z.string(), workflows: z.array(workflowDescriptionSchema) }), "The templates"),
    ...errorResponses(...apiErrors, ...frontendErrors),
  },
});

/** GET /api/workflows?frontend=: a frontend's templates and their parameters. */
export function createWorkflowsRouter() {
  return createRouter<AppEnv>().openapi(listWorkflows, (c) =>
    c.json({ frontend: c.get("frontend"), workflows: describeWorkflows(c.get("deps").workflows.list(c.get("frontend"))) }, 200),
  );
}
