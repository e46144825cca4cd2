/** What `pick` needs to know about one candidate server. */
export interface Candidate {
  id: string;
  healthy: boolean;
  tags: readonly string[];
  weight: number;
  /** running + pending + locally submitted. */
  work: number;
  /** Node classes the server offers; null when not known yet. */
  nodes: ReadonlySet<string> | null;
}

/** Constraints of one pick. */
export interface PickRequest {
  requiredTags?: string[];
  requiredNodes?: string[];
  exclude?: string[];
}

/** True when `c` can take a job under `req`. A server whose node list is unknown is not trusted with required nodes. */
export function eligible(c: Candidate, req: PickRequest): boolean {
  if (!c.healthy || req.exclude?.includes(c.id) === true) return false;
  if (req.requiredTags?.some((t) => !c.tags.includes(t)) === true) return false;
  if (req.requiredNodes !== undefined && req.requiredNodes.length > 0) {
    const nodes = c.nodes;
    if (nodes === null || req.requiredNodes.some((n) => !nodes.has(n))) return false;
  }
  return true;
}

/**
 * Least work per unit of weight wins; ties go round-robin, starting after the last server
 * picked (`cursor`, an index into `candidates`' stable order). Returns the index or -1.
 */
export function pickIndex(candidates: readonly Candidate[], req: PickRequest, cursor: number): number {
  let best = -1;
  let bestLoad = Infinity;
  const n = candidates.length;
  for (let k = 1; k <= n; k++) {
    const i = (cursor + k) % n;
    const c = candidates[i];
    if (c === undefined || !eligible(c, req)) continue;
    const load = c.work / c.weight;
    if (load < bestLoad) {
      best = i;
      bestLoad = load;
    }
  }
  return best;
}
