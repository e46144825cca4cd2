import type { User } from "../schema/index.ts";

/** A user as the API shows it. */
export function userView(user: User) {
  return {
    id: user.id,
    externalId: user.externalId,
    nickname: user.nickname,
    avatarUrl: user.avatarUrl,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}
