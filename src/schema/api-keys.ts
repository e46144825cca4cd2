import { datetime, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { lengths } from "./columns.ts";

// Credentials of one frontend, in that frontend's own database (so a key can only ever be looked
// up where it acts). `api_keys` holds only SHA-256 hashes of the frontend's secret keys (several
// live at once for rotation); `signing_keys` holds the secret that signs its user tokens, shared by
// every replica through the database.

export const mysqlApiKeys = mysqlTable("api_keys", {
  id: varchar("id", { length: lengths.keyId }).primaryKey(),
  /** SHA-256 of the whole key, hex. */
  hash: varchar("hash", { length: 64 }).notNull(),
  label: varchar("label", { length: lengths.keyLabel }),
  createdAt: datetime("created_at", { mode: "date", fsp: 3 }).notNull(),
  revokedAt: datetime("revoked_at", { mode: "date", fsp: 3 }),
});

export const sqliteApiKeys = sqliteTable("api_keys", {
  id: text("id", { length: lengths.keyId }).primaryKey(),
  hash: text("hash", { length: 64 }).notNull(),
  label: text("label", { length: lengths.keyLabel }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
});

export const mysqlSigningKeys = mysqlTable("signing_keys", {
  id: varchar("id", { length: lengths.keyId }).primaryKey(),
  /** 256 random bits, base64url. */
  secret: varchar("secret", { length: 64 }).notNull(),
  createdAt: datetime("created_at", { mode: "date", fsp: 3 }).notNull(),
});

export const sqliteSigningKeys = sqliteTable("signing_keys", {
  id: text("id", { length: lengths.keyId }).primaryKey(),
  secret: text("secret", { length: 64 }).notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

export type ApiKeyRow = typeof mysqlApiKeys.$inferSelect;
export type SigningKeyRow = typeof mysqlSigningKeys.$inferSelect;
