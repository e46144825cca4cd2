// What drizzle-kit reads to generate the MySQL migrations in drizzle/mysql.
export { mysqlPhotos, mysqlUsers } from "./index.ts";
