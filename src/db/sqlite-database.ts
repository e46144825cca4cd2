import { mkdirSync } from "node:fs";
import path from "node:path";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { sqliteApiKeys, sqlitePhotos, sqliteSigningKeys, sqliteUsers } from "../schema/index.ts";
import { onceSuccessful, type Database, type SqlDatabase, type Tables } from "./database.ts";
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
    tables: { users: sqliteUsers, photos: sqlitePhotos, apiKeys: sqliteApiKeys, signingKeys: sqliteSigningKeys } as unknown as Tables,
    ready: onceSuccessful(async () => {
      await client.execute("PRAGMA journal_mode = WAL");
      await client.execute("PRAGMA busy_timeout = 5000");
      // libSQL runs on the event loop's thread, so a full sync per commit stalls every request.
      // With WAL, NORMAL loses at most the last commits on power loss, never on a process crash.
      await client.execute("PRAGMA synchronous = NORMAL");
      await migrate(db, { migrationsFolder: migrationsDir("sqlite") });
    }),
    ping: async () => {
      await client.execute("SELECT 1");
    },
    close: async () => client.close(),
  };
}
