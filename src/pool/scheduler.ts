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
  /** The values of its nodes' choice inputs (its model files among them); null when not known yet. */
  choices: ReadonlySet<string> | null;
}

/** Constraints of one pick. */
export interface PickRequest {
  requiredTags?: string[];
  requiredNodes?: string[];
  /** Model files (checkpoints...) that must be among the server's choices. */
  requiredModels?: string[];
  exclude?: string[];
}

/** Whether `offered` (null: not known yet) has every one of `wanted`; nothing wanted always fits. */
function offers(offered: ReadonlySet<string> | null, wanted: readonly string[] | undefined): boolean {
  if (wanted === undefined || wanted.length === 0) return true;
  return offered !== null && wanted.every((w) => offered.has(w));
}

/** True when `c` can take a task under `req`. A server whose node list is unknown is not trusted with required nodes or models. */
export function eligible(c: Candidate, req: PickRequest): boolean {
  if (!c.healthy || req.exclude?.includes(c.id) === true) return false;
  if (req.requiredTags?.some((t) => !c.tags.includes(t)) === true) return false;
  return offers(c.nodes, req.requiredNodes) && offers(c.choices, req.requiredModels);
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
