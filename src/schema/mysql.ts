// What drizzle-kit reads to generate the MySQL migrations in drizzle/mysql.
export { mysqlApiKeys, mysqlPhotos, mysqlSigningKeys, mysqlUsers } from "./index.ts";
