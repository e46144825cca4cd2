import type { DatabaseTarget } from "../config/config.ts";
import type { Database } from "./database.ts";
import { openMysqlDatabase } from "./mysql-database.ts";
import { openSqliteDatabase } from "./sqlite-database.ts";

export function openDatabase(target: DatabaseTarget): Database {
  return target.kind === "mysql" ? openMysqlDatabase(target) : openSqliteDatabase(target);
}
