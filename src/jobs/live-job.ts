import type { FileRef } from "../comfy/schemas.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";

/** A job the gateway is following on a ComfyUI server, with what its messages told so far. */
export interface LiveJob {
  frontend: Frontend;
  taskId: string;
  serverId: string;
  promptId: string;
  /** Output nodes named by the template: only their images are results. */
  outputNodes: ReadonlySet<string>;
  /** Nodes in the prompt; with the cached ones, gives an overall percentage. */
  totalNodes: number | null;
  cachedNodes: number;
  executedNodes: Set<string>;
  currentNode: string | null;
  outputs: FileRef[];
  succeeded: boolean;
  cancelRequested: boolean;
  /** Events are handled one after another, and only once the job's row exists. */
  chain: Promise<void>;
}

export function newLiveJob(fields: Pick<LiveJob, "frontend" | "taskId" | "serverId" | "promptId" | "outputNodes" | "totalNodes">, recorded: Promise<void>): LiveJob {
  return {
    ...fields,
    cachedNodes: 0,
    executedNodes: new Set(),
    currentNode: null,
    outputs: [],
    succeeded: false,
    cancelRequested: false,
    chain: recorded,
  };
}

/** Overall progress in percent: finished nodes plus the running node's fraction, over nodes to run. */
export function overallPercent(job: LiveJob, value: number, max: number): number | null {
  if (job.totalNodes === null) return null;
  const toRun = Math.max(1, job.totalNodes - job.cachedNodes);
  const finished = Math.max(0, job.executedNodes.size - (job.currentNode ? 1 : 0));
  const fraction = max > 0 ? Math.min(1, value / max) : 0;
  return Math.min(100, Math.round(((finished + fraction) / toRun) * 1000) / 10);
}
