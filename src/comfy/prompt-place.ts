import type { QueueState } from "./schemas.ts";

/** Where a prompt stands in a server's queue. */
export interface PromptPlace {
  /** True when this prompt is the one executing now. */
  running: boolean;
  /** Prompts that will run before it: running ones + pending ones with a lower `number`. */
  ahead: number;
  /** Pending prompts that start before it (the running ones left out: they have started). */
  pendingAhead: number;
}

/**
 * Applies the protocol's rule: `queue_pending` is not sorted, execution goes by ascending `number`.
 * Returns null when the prompt is in neither list (finished, deleted, or never queued).
 */
export function aheadOf(queue: QueueState, promptId: string): PromptPlace | null {
  if (queue.running.some((item) => item.promptId === promptId)) return { running: true, ahead: 0, pendingAhead: 0 };
  const mine = queue.pending.find((item) => item.promptId === promptId);
  if (mine === undefined) return null;
  const lower = queue.pending.filter((item) => item.number < mine.number).length;
  return { running: false, ahead: queue.running.length + lower, pendingAhead: lower };
}
