/** Driver error codes that mean "the database is not there", as opposed to a bad query. */
const unavailableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "ER_CON_COUNT_ERROR",
  "ER_ACCESS_DENIED_ERROR",
  "ER_BAD_DB_ERROR",
  "ER_SERVER_SHUTDOWN",
  "SQLITE_CANTOPEN",
  "SQLITE_BUSY",
  "SQLITE_READONLY",
  // A full disk: nothing the client can fix, and it passes once space is freed.
  "SQLITE_FULL",
  "SQLITE_IOERR",
  "ER_RECORD_FILE_FULL",
  "ER_DISK_FULL",
]);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** Walks the cause chain (Drizzle wraps driver errors) looking for a connection-level failure. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    const code = codeOf(current);
    if (code && unavailableCodes.has(code)) return true;
    // mysql2's pool says its wait queue is full with a bare message and no code.
    if (current instanceof Error && current.message === "Queue limit reached.") return true;
    if (current instanceof AggregateError && current.errors.some(isDatabaseUnavailable)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** True for a unique-key violation on MySQL/MariaDB or SQLite. */
export function isDuplicateKey(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    const code = codeOf(current);
    if (code === "ER_DUP_ENTRY" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") return true;
    if (code === "SQLITE_CONSTRAINT" && /UNIQUE/i.test(String((current as Error).message))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
