import { and, count, eq, gte, ne } from "drizzle-orm";
import { BaseDBController } from "./base-db-controller.ts";

/**
 * The logo generator. Logos are rationed per day, so it counts how many logos a user has asked for
 * since the start of the current UTC day (cancelled ones do not count).
 */
export class LogoDBController extends BaseDBController {
  async logosSince(userId: string, since: Date): Promise<number> {
    const [row] = await this.db
      .select({ total: count(this.photos.id) })
      .from(this.photos)
      .where(and(eq(this.photos.userId, userId), gte(this.photos.createdAt, since), ne(this.photos.status, "cancelled")));
    return Number(row?.total ?? 0);
  }

  override async userStats(userId: string): Promise<{ logosToday: number }> {
    const now = this.clock.now();
    const startOfDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    return { logosToday: await this.logosSince(userId, startOfDay) };
  }
}
