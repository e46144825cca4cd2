import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { randomBytes } from "node:crypto";

export interface DialectCase {
  name: "sqlite" | "mysql";
  /** Environment entries that point the gateway at a fresh database of this dialect. */
  env(): { env: Record<string, string>; cleanup(): void };
  skip: boolean;
}

const mysqlUrl = inject("mysqlUrl");
const runPrefix = inject("dbRunPrefix");

/** A fresh, unique database prefix (global setup drops everything under the run prefix). */
export function uniqueDatabasePrefix(): string {
  return `${runPrefix}${randomBytes(4).toString("hex")}_`;
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "aipack-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The same test cases run on both: SQLite always, MySQL when it answers (always under CI). */
export const dialectCases: DialectCase[] = [
  {
    name: "sqlite",
    skip: false,
    env: () => {
      const data = tempDir();
      return { env: { DATA_DIR: data.dir }, cleanup: data.cleanup };
    },
  },
  {
    name: "mysql",
    // Mutation runs repeat nothing on MySQL: the same code paths, twice the time.
    skip: mysqlUrl === null || process.env.AIPACK_TEST_DIALECTS === "sqlite",
    env: () => {
      const data = tempDir();
      return {
        env: { DATA_DIR: data.dir, DATABASE_URL: mysqlUrl ?? "", DATABASE_PREFIX: uniqueDatabasePrefix() },
        cleanup: data.cleanup,
      };
    },
  },
];

export { mysqlUrl };
