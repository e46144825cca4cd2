import { and, count, desc, eq, max } from "drizzle-orm";
import { BaseDBController } from "./base-db-controller.ts";

/**
 * The style-transfer app. Its users come back to the styles they liked, so it can tell a user's
 * favourite styles: the workflows of their successful tasks, most used first.
 */
export class StyleDBController extends BaseDBController {
  async favoriteStyles(userId: string, limit = 3): Promise<Array<{ workflow: string; count: number }>> {
    const uses = count(this.photos.id);
    const rows = await this.db
      .select({ workflow: this.photos.workflow, count: uses })
      .from(this.photos)
      .where(and(eq(this.photos.userId, userId), eq(this.photos.status, "succeeded")))
      .groupBy(this.photos.workflow)
      .orderBy(desc(uses), desc(max(this.photos.createdAt)))
      .limit(limit);
    return rows.map((row) => ({ workflow: row.workflow, count: Number(row.count) }));
  }

  override async userStats(userId: string): Promise<{ favoriteStyles: Array<{ workflow: string; count: number }> }> {
    return { favoriteStyles: await this.favoriteStyles(userId) };
  }
}
