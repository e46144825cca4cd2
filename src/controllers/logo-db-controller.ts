import { and, count, eq, gte, ne } from "drizzle-orm";
import { BaseDBController, type QuotaRefusal, type QuotaSettings } from "./base-db-controller.ts";

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
    return { logosToday: await this.logosSince(userId, this.startOfDay()) };
  }

  /** LOGO_DAILY_QUOTA logos per user per UTC day; it resets at the next UTC midnight. */
  override async submitQuota(userId: string, settings: QuotaSettings): Promise<QuotaRefusal | null> {
    if (settings.logoDailyQuota === 0) return null;
    const start = this.startOfDay();
    if ((await this.logosSince(userId, start)) < settings.logoDailyQuota) return null;
    const resetsAt = new Date(start.getTime() + 24 * 60 * 60 * 1000);
    return { message: `The daily quota of ${settings.logoDailyQuota} logos is used up; it resets at ${resetsAt.toISOString()}`, resetsAt };
  }

  private startOfDay(): Date {
    const now = this.clock.now();
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  }
}
