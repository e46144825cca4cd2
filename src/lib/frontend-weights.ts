/** Parses `style:2,logo:1` (FRONTEND_WEIGHTS); throws on a malformed entry. */
export function parseFrontendWeights(value: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const entry of value.split(",").map((item) => item.trim()).filter(Boolean)) {
    const match = /^([a-z0-9_-]+):(\d+(?:\.\d+)?)$/i.exec(entry);
    const weight = match ? Number(match[2]) : NaN;
    if (!match || !(weight > 0)) throw new Error(`"${entry}" is not frontend:weight with a weight above 0`);
    weights[match[1]!.toLowerCase()] = weight;
  }
  return weights;
}
