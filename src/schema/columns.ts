import { customType as mysqlCustomType } from "drizzle-orm/mysql-core";
import { customType as sqliteCustomType } from "drizzle-orm/sqlite-core";

/**
 * JSON kept as text in both dialects: MariaDB's JSON is LONGTEXT under another name and comes back
 * unparsed, so the gateway does the (de)serialising itself and both dialects behave the same.
 */
export function mysqlJson<T>(name: string) {
  return mysqlCustomType<{ data: T; driverData: string }>({
    dataType: () => "longtext",
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => JSON.parse(value) as T,
  })(name);
}

export function sqliteJson<T>(name: string) {
  return sqliteCustomType<{ data: T; driverData: string }>({
    dataType: () => "text",
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => JSON.parse(value) as T,
  })(name);
}

/** Lengths shared by both dialects, so the two table definitions cannot drift apart. */
export const lengths = {
  id: 32,
  externalId: 128,
  nickname: 64,
  url: 1024,
  workflow: 64,
  status: 16,
  serverId: 64,
  promptId: 64,
  fileName: 255,
  idempotencyKey: 128,
  gatewayId: 64,
  keyId: 32,
  keyLabel: 64,
  webhookSecret: 64,
  eventType: 32,
} as const;
