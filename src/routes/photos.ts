import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { validate } from "../lib/validate.ts";
import { assertOwner } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { photoView } from "../views/photo-view.ts";
import { publicRefs } from "../views/public-refs.ts";

export const listPhotosQuery = z.object({
  frontend: z.string(),
  userId: z.string().min(1).max(lengths.id),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const photoIdParam = z.object({ id: z.string().min(1).max(lengths.id) });

/** GET /api/photos (a user's photos, newest first, cursor-paginated) and GET /api/photos/:id. */
export function createPhotosRouter() {
  return new Hono<AppEnv>()
    .get("/", resolveFrontend(), validate("query", listPhotosQuery), async (c) => {
      const { userId, limit, cursor } = c.req.valid("query");
      const db = c.get("db");
      const missing = `No ${c.get("frontend")} user with that id`;
      assertOwner(c, userId, missing);
      if (!(await db.getUser(userId))) throw new AppError("not_found", missing);
      const page = await db.listPhotos(userId, { limit, cursor });
      if (!page) throw new AppError("validation_failed", "cursor: not a cursor this API returned");
      const refs = publicRefs(c.get("deps"));
      return c.json({ items: page.items.map((photo) => photoView(photo, refs)), nextCursor: page.nextCursor });
    })
    .get("/:id", resolveFrontend(), validate("param", photoIdParam), async (c) => {
      const photo = await c.get("db").getPhoto(c.req.valid("param").id);
      const missing = `No ${c.get("frontend")} photo with that id`;
      if (!photo) throw new AppError("not_found", missing);
      assertOwner(c, photo.userId, missing);
      return c.json({ photo: photoView(photo, publicRefs(c.get("deps"))) });
    });
}
