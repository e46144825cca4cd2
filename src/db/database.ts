import type { MySql2Database } from "drizzle-orm/mysql2";
import type { mysqlApiKeys, mysqlPhotos, mysqlSigningKeys, mysqlUsers, mysqlWebhookDeliveries, mysqlWebhookEndpoints } from "../schema/index.ts";

/**
 * The query surface the controllers use. Both dialects are typed through the MySQL builder: the
 * calls the controllers make (select/insert/update without dialect-only clauses) build the same SQL
 * shape on SQLite, and schema-parity tests read both real schemas to keep the columns equal.
 */
export type SqlDatabase = MySql2Database<Record<string, never>>;

export interface Tables {
  users: typeof mysqlUsers;
  photos: typeof mysqlPhotos;
  apiKeys: typeof mysqlApiKeys;
  signingKeys: typeof mysqlSigningKeys;
  webhookEndpoints: typeof mysqlWebhookEndpoints;
  webhookDeliveries: typeof mysqlWebhookDeliveries;
}

/** A statement as drizzle's `toSQL()` gives it: the dialect's SQL and its driver-ready parameters. */
export interface BuiltQuery {
  sql: string;
  params: unknown[];
}

/** One frontend's database: its query builder, its tables, and lazy, retryable readiness. */
export interface Database {
  readonly dialect: "mysql" | "sqlite";
  /** Where it lives, for messages (no credentials). */
  readonly label: string;
  readonly db: SqlDatabase;
  readonly tables: Tables;
  /** Creates the database if missing and applies migrations; retried on the next call after a failure. */
  ready(): Promise<void>;
  /**
   * Runs a guarded UPDATE and, only when it changed a row, the INSERTs after it: all or nothing,
   * in one transaction. Resolves whether the update changed a row. (The task's end and its webhook
   * outbox rows: a crash between them must lose neither or both.)
   */
  updateThenInsert(update: BuiltQuery, inserts: readonly BuiltQuery[]): Promise<boolean>;
  /** A cheap round trip, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Memoises a successful async step; a failed one is tried again by the next caller. */
export function onceSuccessful(step: () => Promise<void>): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  let done = false;
  return async () => {
    if (done) return;
    inFlight ??= step().then(
      () => {
        done = true;
      },
      (error: unknown) => {
        inFlight = undefined;
        throw error;
      },
    );
    return inFlight;
  };
}
