import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { anyCaller, apiErrors, createRouter, errorResponses, frontendErrors, json, jsonBody, jsonBodyErrors } from "../lib/openapi.ts";
import { displayTextSchema, httpsUrlSchema, identifierSchema } from "../lib/text-fields.ts";
import { assertOwner, tokenUserId } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { userView, userViewSchema } from "../views/user-view.ts";

export const upsertUserBody = z.object({
  frontend: z.string(),
  externalId: identifierSchema(lengths.externalId),
  nickname: displayTextSchema(lengths.nickname).nullish(),
  avatarUrl: httpsUrlSchema(lengths.url).nullish(),
});

export const userIdParam = z.object({ id: z.string().min(1).max(lengths.id) });

const frontendQuery = z.object({ frontend: z.string() });

const upsertUser = createRoute({
  method: "post",
  path: "/",
  tags: ["Users"],
  summary: "Create or update a user by its externalId",
  description: "A frontend key creates or updates any user of its frontend; a user token may update only its own.",
  security: anyCaller,
  middleware: [resolveFrontend()],
  request: { body: jsonBody(upsertUserBody) },
  responses: {
    200: json(z.object({ user: userViewSchema }), "The user as stored"),
    ...errorResponses(...apiErrors, ...frontendErrors, ...jsonBodyErrors),
  },
});

const getUser = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["Users"],
  summary: "A user and the frontend's own stats",
  description: "`stats` is the frontend's own: style, the favourite styles; logo, the logos made today.",
  security: anyCaller,
  middleware: [resolveFrontend()],
  request: { params: userIdParam, query: frontendQuery },
  responses: {
    200: json(z.object({ user: userViewSchema, stats: z.record(z.string(), z.unknown()) }), "The user"),
    ...errorResponses(...apiErrors, ...frontendErrors, "validation_failed", "not_found"),
  },
});

/** POST /api/users (upsert by externalId) and GET /api/users/:id. */
export function createUsersRouter() {
  return createRouter<AppEnv>()
    .openapi(upsertUser, async (c) => {
      const { externalId, nickname, avatarUrl } = c.req.valid("json");
      const ownId = tokenUserId(c);
      if (ownId !== undefined) {
        // A user token may edit its own profile only, never create users or take over another's.
        const existing = await c.get("db").getUserByExternalId(externalId);
        if (existing?.id !== ownId) throw new AppError("forbidden", "A user token may change only its own user");
      }
      const user = await c.get("db").upsertUser({ externalId, nickname, avatarUrl });
      return c.json({ user: userView(user) }, 200);
    })
    .openapi(getUser, async (c) => {
      const db = c.get("db");
      const user = await db.getUser(c.req.valid("param").id);
      const missing = `No ${c.get("frontend")} user with that id`;
      if (!user) throw new AppError("not_found", missing);
      assertOwner(c, user.id, missing);
      return c.json({ user: userView(user), stats: await db.userStats(user.id) }, 200);
    });
}
