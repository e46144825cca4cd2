import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import type { TestProject } from "vitest/node";

const mysqlUrl = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/";
const runPrefix = `aipt_${Date.now().toString(36)}_`;
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function redisAnswers(): Promise<boolean> {
  const client = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function mysqlAnswers(): Promise<boolean> {
  try {
    const connection = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 2_000 });
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/** Drops every database this run created (they all start with the run's unique prefix). */
async function dropRunDatabases(): Promise<void> {
  const connection = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 2_000 });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>("SHOW DATABASES LIKE ?", [`${runPrefix}%`]);
    for (const row of rows) {
      const name = String(Object.values(row)[0]);
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    }
  } finally {
    await connection.end();
  }
}

/**
 * Decides once per run whether the MariaDB/MySQL cases run: under CI they are mandatory, elsewhere
 * they skip with a clear message when no server answers.
 */
export default async function setup(project: TestProject) {
  const available = await mysqlAnswers();
  if (!available && process.env.CI === "true") {
    throw new Error(`CI=true but no MySQL answers at ${mysqlUrl}: the MySQL tests are mandatory in CI`);
  }
  if (!available) console.warn(`\n[aipack tests] no MySQL at ${mysqlUrl}: the MySQL cases are skipped (set TEST_MYSQL_URL)\n`);
  project.provide("mysqlUrl", available ? mysqlUrl : null);
  const redis = await redisAnswers();
  if (!redis && process.env.CI === "true") throw new Error(`CI=true but no Redis answers at ${redisUrl}: the replica tests are mandatory in CI`);
  if (!redis) console.warn(`\n[aipack tests] no Redis at ${redisUrl}: the several-replicas tests are skipped (set TEST_REDIS_URL)\n`);
  project.provide("redisUrl", redis ? redisUrl : null);
  project.provide("dbRunPrefix", runPrefix);
  return async () => {
    if (available) await dropRunDatabases();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    mysqlUrl: string | null;
    redisUrl: string | null;
    dbRunPrefix: string;
  }
}
