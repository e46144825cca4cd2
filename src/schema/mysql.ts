// What drizzle-kit reads to generate the MySQL migrations in drizzle/mysql.
export { mysqlApiKeys, mysqlPhotos, mysqlSigningKeys, mysqlUsers, mysqlWebhookDeliveries, mysqlWebhookEndpoints } from "./index.ts";
