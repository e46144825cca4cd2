import { drizzle } from "drizzle-orm/mysql2";
import { migrate } from "drizzle-orm/mysql2/migrator";
import mysql from "mysql2/promise";
import { mysqlApiKeys, mysqlPhotos, mysqlSigningKeys, mysqlUsers, mysqlWebhookDeliveries, mysqlWebhookEndpoints } from "../schema/index.ts";
import { onceSuccessful, type Database } from "./database.ts";
import { migrationsDir } from "./migrations-dir.ts";

const connectTimeout = 3_000;

function label(url: string, database: string): string {
  const parsed = new URL(url);
  return `mysql://${parsed.host}/${database}`;
}

/** Creates the database if missing and migrates it, holding a named lock so replicas take turns. */
async function prepare(url: string, database: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout });
  try {
    // Binary collation: ids and external ids (openids) are case-sensitive.
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await connection.changeUser({ database });
    const lock = `aipack_migrate_${database}`.slice(0, 64);
    await connection.query("SELECT GET_LOCK(?, 30)", [lock]);
    try {
      await migrate(drizzle(connection), { migrationsFolder: migrationsDir("mysql") });
    } finally {
      await connection.query("SELECT RELEASE_LOCK(?)", [lock]);
    }
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

/** A frontend's MySQL/MariaDB database; the pool opens connections only when first used. */
export function openMysqlDatabase(target: { url: string; database: string }, queueLimit = 200): Database {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(target.database)) {
    throw new Error(`database name "${target.database}" must be letters, digits and _`);
  }
  const pool = mysql.createPool({
    uri: target.url,
    database: target.database,
    connectTimeout,
    connectionLimit: 10,
    waitForConnections: true,
    // Unbounded, a flood queued 150,000 queries and the next honest call waited 28 s; past this
    // many waiting, a query fails at once ("Queue limit reached.") and the client gets 503.
    queueLimit,
    enableKeepAlive: true,
  });
  // A refused connection surfaces on the query that needed it; the pool itself must not crash us.
  pool.on("connection", (connection) => connection.on("error", () => undefined));
  const db = drizzle(pool);
  return {
    dialect: "mysql",
    label: label(target.url, target.database),
    db,
    tables: { users: mysqlUsers, photos: mysqlPhotos, apiKeys: mysqlApiKeys, signingKeys: mysqlSigningKeys, webhookEndpoints: mysqlWebhookEndpoints, webhookDeliveries: mysqlWebhookDeliveries },
    ready: onceSuccessful(() => prepare(target.url, target.database)),
    updateThenInsert: async (update, inserts) => {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        const [header] = await connection.query<mysql.ResultSetHeader>(update.sql, update.params);
        const moved = header.affectedRows > 0;
        if (moved) for (const insert of inserts) await connection.query(insert.sql, insert.params);
        await connection.commit();
        return moved;
      } catch (error) {
        await connection.rollback().catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
    ping: async () => {
      await pool.query("SELECT 1");
    },
    close: () => pool.end(),
  };
}
