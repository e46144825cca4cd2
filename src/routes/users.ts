import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { displayTextSchema, httpsUrlSchema, identifierSchema } from "../lib/text-fields.ts";
import { validate } from "../lib/validate.ts";
import { assertOwner, tokenUserId } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { userView } from "../views/user-view.ts";

export const upsertUserBody = z.object({
  frontend: z.string(),
  externalId: identifierSchema(lengths.externalId),
  nickname: displayTextSchema(lengths.nickname).nullish(),
  avatarUrl: httpsUrlSchema(lengths.url).nullish(),
});

export const userIdParam = z.object({ id: z.string().min(1).max(lengths.id) });

/** POST /api/users (upsert by externalId) and GET /api/users/:id. */
export function createUsersRouter() {
  return new Hono<AppEnv>()
    .post("/", resolveFrontend(), validate("json", upsertUserBody), async (c) => {
      const { externalId, nickname, avatarUrl } = c.req.valid("json");
      const ownId = tokenUserId(c);
      if (ownId !== undefined) {
        // A user token may edit its own profile only, never create users or take over another's.
        const existing = await c.get("db").getUserByExternalId(externalId);
        if (existing?.id !== ownId) throw new AppError("forbidden", "A user token may change only its own user");
      }
      const user = await c.get("db").upsertUser({ externalId, nickname, avatarUrl });
      return c.json({ user: userView(user) });
    })
    .get("/:id", resolveFrontend(), validate("param", userIdParam), async (c) => {
      const db = c.get("db");
      const user = await db.getUser(c.req.valid("param").id);
      const missing = `No ${c.get("frontend")} user with that id`;
      if (!user) throw new AppError("not_found", missing);
      assertOwner(c, user.id, missing);
      return c.json({ user: userView(user), stats: await db.userStats(user.id) });
    });
}
