import { GraphProgress } from "../comfy/graph-progress.ts";
import type { FileRef } from "../comfy/schemas.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";

/** A task the gateway is following on a ComfyUI server, with what its messages told so far. */
export interface LiveTask {
  frontend: Frontend;
  taskId: string;
  serverId: string;
  promptId: string;
  /** Output nodes named by the template: only their images are results. */
  outputNodes: ReadonlySet<string>;
  /** Nodes in the prompt; with the cached ones, gives an overall percentage. */
  totalNodes: number | null;
  cachedNodes: number;
  /** The whole graph's progress, on servers that send `progress_state`. */
  graph: GraphProgress;
  executedNodes: Set<string>;
  currentNode: string | null;
  outputs: FileRef[];
  // The life-cycle flags below are set only by TaskLifecycle (task-lifecycle.ts); others read them.
  /** A client asked to cancel: an interrupt is then a cancel, not a failure. */
  cancelRequested: boolean;
  /** When the gateway knew the prompt to be queued (ms): a /queue answer from after it must list the task. */
  queuedAt: number;
  /**
   * Set while the task's end is being recorded (results fetched and stored, row written), and kept
   * once it is: a second end (a poll's reconcile, a cancel) waits for this one instead of racing it.
   * Cleared again if recording failed, so a later reconcile can retry.
   */
  ending: Promise<void> | null;
  /** An end was known but its row could not be written: the next poll reconciles to retry. */
  endUnrecorded: boolean;
  /** Events are handled one after another, and only once the task's row exists. */
  chain: Promise<void>;
}

export function newLiveTask(fields: Pick<LiveTask, "frontend" | "taskId" | "serverId" | "promptId" | "outputNodes" | "totalNodes">, recorded: Promise<void>): LiveTask {
  return {
    ...fields,
    cachedNodes: 0,
    graph: new GraphProgress(fields.totalNodes),
    executedNodes: new Set(),
    currentNode: null,
    outputs: [],
    cancelRequested: false,
    queuedAt: Date.now(),
    ending: null,
    endUnrecorded: false,
    chain: recorded,
  };
}

/** Overall progress in percent: finished nodes plus the running node's fraction, over nodes to run. */
export function overallPercent(task: LiveTask, value: number, max: number): number | null {
  if (task.totalNodes === null) return null;
  const toRun = Math.max(1, task.totalNodes - task.cachedNodes);
  const finished = Math.max(0, task.executedNodes.size - (task.currentNode ? 1 : 0));
  const fraction = max > 0 ? Math.min(1, value / max) : 0;
  return Math.min(100, Math.round(((finished + fraction) / toRun) * 1000) / 10);
}
