/**
 * The shape of a JSON value, for comparing the fake's answers with recorded ones whose values
 * differ (ids, times): objects by their keys, arrays by the distinct shapes of their elements,
 * anything else by its type. Keys in `opaque` keep only their type (fields whose inner detail the
 * fake does not imitate, such as a node's current inputs).
 */
export function shapeOf(value: unknown, opaque: ReadonlySet<string> = new Set()): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) {
    const shapes = value.map((v) => JSON.stringify(shapeOf(v, opaque)));
    return [...new Set(shapes)].sort().map((s) => JSON.parse(s) as unknown);
  }
  if (typeof value !== "object") return typeof value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(entries.map(([k, v]) => [k, opaque.has(k) ? (Array.isArray(v) ? "array" : typeof v) : shapeOf(v, opaque)]));
}
