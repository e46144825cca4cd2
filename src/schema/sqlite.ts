// What drizzle-kit reads to generate the SQLite migrations in drizzle/sqlite.
export { sqliteApiKeys, sqlitePhotos, sqliteSigningKeys, sqliteUsers, sqliteWebhookDeliveries, sqliteWebhookEndpoints } from "./index.ts";
