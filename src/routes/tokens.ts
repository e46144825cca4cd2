import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { defaultTokenTtlSeconds, maxTokenTtlSeconds } from "../auth/user-tokens.ts";
import { AppError } from "../errors/app-error.ts";
import { anyOf, apiErrors, createRouter, errorResponses, frontendErrors, json, jsonBody, jsonBodyErrors } from "../lib/openapi.ts";
import { requireKey } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { userView, userViewSchema } from "../views/user-view.ts";

export const mintTokenBody = z
  .strictObject({
    frontend: z.string(),
    userId: z.string().min(1).max(lengths.id).optional(),
    externalId: z.string().trim().min(1).max(lengths.externalId).optional(),
    /** With `externalId`: create the user (or update the given fields) instead of answering 404. */
    upsert: z.boolean().default(false),
    nickname: z.string().trim().max(lengths.nickname).nullish(),
    avatarUrl: z.url().max(lengths.url).nullish(),
    ttlSeconds: z.number().int().min(60).max(maxTokenTtlSeconds).default(defaultTokenTtlSeconds),
  })
  .refine((body) => (body.userId === undefined) !== (body.externalId === undefined), "give exactly one of userId and externalId")
  .refine((body) => !body.upsert || body.externalId !== undefined, "upsert needs externalId");

const mintToken = createRoute({
  method: "post",
  path: "/",
  tags: ["Users"],
  summary: "Mint a user token",
  description:
    "A frontend's backend (its key, never a user token) mints a signed, expiring token for one user, by `userId` or " +
    "`externalId` (`upsert: true` creates the user), and hands it to its client, which then calls the API as that user.",
  security: anyOf("frontendKey", "adminKey"),
  middleware: [resolveFrontend(), requireKey()],
  request: { body: jsonBody(mintTokenBody) },
  responses: {
    201: json(
      z.object({
        token: z.string().meta({ description: "A JWT; send it as `Authorization: Bearer <token>`" }),
        tokenType: z.literal("Bearer"),
        expiresAt: z.iso.datetime(),
        expiresIn: z.number().int().meta({ description: "Seconds" }),
        user: userViewSchema,
      }),
      "The token (shown once; not stored)",
    ),
    ...errorResponses(...apiErrors, ...frontendErrors, ...jsonBodyErrors, "not_found"),
  },
});

/**
 * POST /api/tokens (a frontend key): a signed, expiring token for one user of that frontend, which
 * the frontend's backend hands to its client. The token acts for that user only.
 */
export function createTokensRouter() {
  return createRouter<AppEnv>().openapi(mintToken, async (c) => {
    const body = c.req.valid("json");
    const db = c.get("db");
    const frontend = c.get("frontend");
    const user = body.upsert
      ? await db.upsertUser({ externalId: body.externalId!, nickname: body.nickname, avatarUrl: body.avatarUrl })
      : body.userId !== undefined
        ? await db.getUser(body.userId)
        : await db.getUserByExternalId(body.externalId!);
    if (!user) throw new AppError("not_found", `No ${frontend} user with that id`);
    const auth = c.get("deps").auth;
    if (!auth) throw new AppError("bad_request", "Authentication is off (AUTH=off): there are no tokens to mint");
    const { token, expiresAt } = await auth.mintUserToken(frontend, user.id, body.ttlSeconds);
    c.header("Cache-Control", "no-store");
    return c.json({ token, tokenType: "Bearer" as const, expiresAt: expiresAt.toISOString(), expiresIn: body.ttlSeconds, user: userView(user) }, 201);
  });
}
