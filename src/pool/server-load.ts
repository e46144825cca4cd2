import type { QueueState } from "../comfy/schemas.ts";

/** A prompt this gateway queued that no queue reading is known to include yet. */
interface Bump {
  promptId: string | null;
  /** When the POST /prompt was sent: the server queued it after this. */
  sentAt: number;
  /** When its answer came: the server had queued it before this. */
  answeredAt: number;
}

/**
 * A server's load: the last queue reading (a health check's `/queue`, or the `queue_remaining`
 * of a `status` message, whichever is newer) plus this gateway's submissions it cannot include.
 */
export class ServerLoad {
  queue: { running: number; pending: number } | null = null;
  private bumps: Bump[] = [];
  private statusAt: number | null = null;

  /** Tasks submitted here that the last reading does not include. */
  get localPending(): number {
    return this.bumps.length;
  }

  /** running + pending + local bumps: the scheduler's measure of load. */
  get work(): number {
    return (this.queue?.running ?? 0) + (this.queue?.pending ?? 0) + this.bumps.length;
  }

  /** Counts a prompt just queued; one whose `status` already arrived is in that reading. */
  bump(bump: Bump): void {
    if (this.statusAt !== null && bump.sentAt < this.statusAt) return;
    this.bumps.push(bump);
  }

  /**
   * A health check's reading, taken by the server after `startedAt`. A bump is in it when its
   * prompt is listed, or when it was answered before the check started (listed or already done).
   * Matching by prompt id is what keeps a task submitted during the check from counting twice.
   */
  fromCheck(queue: QueueState, startedAt: number): void {
    const listed = new Set([...queue.running, ...queue.pending].map((item) => item.promptId));
    this.bumps = this.bumps.filter((b) => b.answeredAt >= startedAt && (b.promptId === null || !listed.has(b.promptId)));
    // A status message newer than this check's start already told a fresher total.
    if (this.statusAt !== null && this.statusAt > startedAt) return;
    this.queue = { running: queue.running.length, pending: queue.pending.length };
  }

  /**
   * A `status` message: ComfyUI broadcasts one on every queue change (queued, started, finished,
   * deleted), before it answers the POST that caused it. Its total covers every prompt whose POST
   * was sent before it arrived. The split is inferred: a server runs one prompt at a time.
   */
  fromStatus(queueRemaining: number, receivedAt: number): void {
    this.statusAt = receivedAt;
    this.queue = { running: Math.min(1, queueRemaining), pending: Math.max(0, queueRemaining - 1) };
    this.bumps = this.bumps.filter((b) => b.sentAt >= receivedAt);
  }
}
