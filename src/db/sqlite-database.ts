import { mkdirSync } from "node:fs";
import path from "node:path";
import { createClient, type InArgs, type InStatement } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { sqliteApiKeys, sqlitePhotos, sqliteSigningKeys, sqliteUsers, sqliteWebhookDeliveries, sqliteWebhookEndpoints } from "../schema/index.ts";
import { onceSuccessful, type BuiltQuery, type Database, type SqlDatabase, type Tables } from "./database.ts";
import { migrationsDir } from "./migrations-dir.ts";

/** The embedded default: one SQLite file per frontend, through libSQL (prebuilt, Node and Bun). */
export function openSqliteDatabase(target: { file: string }): Database {
  mkdirSync(path.dirname(target.file), { recursive: true });
  const client = createClient({ url: `file:${target.file}` });
  const db = drizzle(client);
  return {
    dialect: "sqlite",
    label: `sqlite:${target.file}`,
    // See SqlDatabase: the controllers' queries are dialect-neutral.
    db: db as unknown as SqlDatabase,
    tables: { users: sqliteUsers, photos: sqlitePhotos, apiKeys: sqliteApiKeys, signingKeys: sqliteSigningKeys, webhookEndpoints: sqliteWebhookEndpoints, webhookDeliveries: sqliteWebhookDeliveries } as unknown as Tables,
    ready: onceSuccessful(async () => {
      await client.execute("PRAGMA journal_mode = WAL");
      await client.execute("PRAGMA busy_timeout = 5000");
      // libSQL runs on the event loop's thread, so a full sync per commit stalls every request.
      // With WAL, NORMAL loses at most the last commits on power loss, never on a process crash.
      await client.execute("PRAGMA synchronous = NORMAL");
      await migrate(db, { migrationsFolder: migrationsDir("sqlite") });
    }),
    updateThenInsert: async (update, inserts) => {
      // One batch, not an interactive transaction: libSQL would hold a pooled connection across
      // awaits, and any other write meanwhile (on a second connection) would fail SQLITE_BUSY.
      // Each INSERT runs only if the statement before it changed a row (changes() = 1), so a
      // guard that matched nothing inserts nothing.
      const results = await client.batch([toStatement(update), ...inserts.map(guardedInsert)], "write");
      return (results[0]?.rowsAffected ?? 0) > 0;
    },
    ping: async () => {
      await client.execute("SELECT 1");
    },
    close: async () => client.close(),
  };
}

function toStatement(query: BuiltQuery): InStatement {
  return { sql: query.sql, args: query.params as InArgs };
}

/** `insert into t (a, b) values (?, ?)` → `insert into t (a, b) select ?, ? where changes() = 1`. */
function guardedInsert(query: BuiltQuery): InStatement {
  const match = /^(insert into .+?\)) values \((.*)\)$/is.exec(query.sql);
  if (!match) throw new Error("guarded insert: expected a single-row insert");
  return { sql: `${match[1]} select ${match[2]} where changes() = 1`, args: query.params as InArgs };
}
