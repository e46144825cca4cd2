// What drizzle-kit reads to generate the SQLite migrations in drizzle/sqlite.
export { sqlitePhotos, sqliteUsers } from "./index.ts";
