import { z } from "zod";
import type { User } from "../schema/index.ts";

/** A user as the API documents it. */
export const userViewSchema = z
  .object({
    id: z.string(),
    externalId: z.string().meta({ description: "The frontend's own id of the user (e.g. a mini-program openid)" }),
    nickname: z.string().nullable(),
    avatarUrl: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "User" });

export type UserView = z.infer<typeof userViewSchema>;

/** A user as the API shows it. */
export function userView(user: User): UserView {
  return {
    id: user.id,
    externalId: user.externalId,
    nickname: user.nickname,
    avatarUrl: user.avatarUrl,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}
