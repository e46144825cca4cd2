import { createRoute } from "@hono/zod-openapi";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { errorResponses, jsonBody } from "../lib/openapi.ts";
import { validate } from "../lib/validate.ts";
import { lengths } from "../schema/columns.ts";

export const demoLoginBody = z.object({ frontend: z.string().max(40), externalId: z.string().trim().min(1).max(lengths.externalId) });

/** What the demo backend calls: the app's own `request`, so the token comes through the real API. */
type ApiCaller = (path: string, init: RequestInit) => Response | Promise<Response>;

/** `POST /demo/login` in the OpenAPI document (mounted only with DEMO_LOGIN=on). */
export const demoLoginRouteDoc = createRoute({
  method: "post",
  path: "/demo/login",
  tags: ["Page"],
  summary: "The demo page's login (DEMO_LOGIN=on only)",
  description: "Answers what `POST /api/tokens` answers, minted with the frontend's in-memory key.",
  security: [],
  request: { body: jsonBody(demoLoginBody) },
  responses: { 201: { description: "As `POST /api/tokens`" }, ...errorResponses("unknown_frontend", "validation_failed", "bad_request") },
});

/**
 * POST /demo/login (only with DEMO_LOGIN=on, loopback HOST only): the demo page's stand-in for a
 * frontend's backend. It does what a mini-program's backend does after `code2session`: calls
 * POST /api/tokens with the frontend's key (made in memory at start, never shown) and hands the
 * user token to the page.
 */
export function createDemoLoginRouter(callApi: ApiCaller, keys: ReadonlyMap<string, string>) {
  return new Hono<AppEnv>().post("/login", validate("json", demoLoginBody), async (c) => {
    const { frontend, externalId } = c.req.valid("json");
    const key = keys.get(frontend);
    if (!key) throw new AppError("unknown_frontend", `Unknown frontend "${frontend}"; one of: ${[...keys.keys()].join(", ")}`);
    const answer = await callApi("/api/tokens", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-request-id": c.get("requestId") },
      body: JSON.stringify({ frontend, externalId, upsert: true }),
    });
    c.header("Cache-Control", "no-store");
    return c.json(await answer.json(), answer.status as 201);
  });
}
