import path from "node:path";
import { fileURLToPath } from "node:url";

/** drizzle/<dialect> at the project root, wherever the process was started from. */
export function migrationsDir(dialect: "mysql" | "sqlite"): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../drizzle", dialect);
}
