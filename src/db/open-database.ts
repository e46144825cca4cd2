import type { DatabaseTarget } from "../config/config.ts";
import type { Database } from "./database.ts";
import { openMysqlDatabase } from "./mysql-database.ts";
import { openSqliteDatabase } from "./sqlite-database.ts";

/** `queueLimit`: MySQL queries waiting for a connection beyond this are refused at once (503). */
export function openDatabase(target: DatabaseTarget, options: { queueLimit?: number } = {}): Database {
  return target.kind === "mysql" ? openMysqlDatabase(target, options.queueLimit) : openSqliteDatabase(target);
}
