import { datetime, mysqlTable, uniqueIndex as mysqlUnique, varchar } from "drizzle-orm/mysql-core";
import { integer, sqliteTable, text, uniqueIndex as sqliteUnique } from "drizzle-orm/sqlite-core";
import { lengths } from "./columns.ts";

// The same table for every frontend database; one definition per dialect, side by side, so a
// column change is made in one place (test/schema-parity.test.ts checks the two stay equal).

export const mysqlUsers = mysqlTable(
  "users",
  {
    id: varchar("id", { length: lengths.id }).primaryKey(),
    externalId: varchar("external_id", { length: lengths.externalId }).notNull(),
    nickname: varchar("nickname", { length: lengths.nickname }),
    avatarUrl: varchar("avatar_url", { length: lengths.url }),
    createdAt: datetime("created_at", { mode: "date", fsp: 3 }).notNull(),
    updatedAt: datetime("updated_at", { mode: "date", fsp: 3 }).notNull(),
  },
  (table) => [mysqlUnique("users_external_id_unique").on(table.externalId)],
);

export const sqliteUsers = sqliteTable(
  "users",
  {
    id: text("id", { length: lengths.id }).primaryKey(),
    externalId: text("external_id", { length: lengths.externalId }).notNull(),
    nickname: text("nickname", { length: lengths.nickname }),
    avatarUrl: text("avatar_url", { length: lengths.url }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (table) => [sqliteUnique("users_external_id_unique").on(table.externalId)],
);

export type User = typeof mysqlUsers.$inferSelect;
export type NewUser = typeof mysqlUsers.$inferInsert;
