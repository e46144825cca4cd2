/**
 * Rows an UPDATE matched, from either driver: mysql2 answers `[ResultSetHeader, fields]`, libSQL a
 * ResultSet with `rowsAffected`. Throws for anything else: a caller deciding who won a race must
 * not guess.
 */
export function affectedRows(result: unknown): number {
  const header: unknown = Array.isArray(result) ? result[0] : result;
  if (typeof header !== "object" || header === null) throw new Error("the database did not report affected rows");
  if ("affectedRows" in header && typeof header.affectedRows === "number") return header.affectedRows;
  if ("rowsAffected" in header && typeof header.rowsAffected === "number") return header.rowsAffected;
  throw new Error("the database did not report affected rows");
}
