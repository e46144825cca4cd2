/**
 * Drizzle's "Failed query" errors carry the bound values (`\nparams: openid,nickname,...`), which are
 * personal data; keep the SQL (placeholders only) and drop the values.
 */
const queryParams = /(Failed query: [\s\S]*?)\nparams: [^\n]*/g;

export function redactQueryParams(text: string): string {
  return text.includes("Failed query") ? text.replace(queryParams, "$1\nparams: [redacted]") : text;
}

/** The same for every string in a log line's fields (one level deep, as our loggers write them). */
export function redactFields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return fields;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = typeof value === "string" ? redactQueryParams(value) : value;
  return out;
}
