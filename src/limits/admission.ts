import type { Limits } from "../config/limits.ts";
import type { BaseDBController } from "../controllers/base-db-controller.ts";
import { AppError } from "../errors/app-error.ts";
import type { Clock } from "../lib/clock.ts";
import type { ComfyPool } from "../pool/server-pool.ts";

/** A refused submit; its Retry-After says when to come back. */
export class AdmissionRefused extends AppError {
  constructor(code: "too_many_tasks" | "queue_full" | "quota_exceeded", message: string, retryAfterSeconds: number, details?: unknown) {
    super(code, message, details, { retryAfterSeconds });
    this.name = "AdmissionRefused";
  }
}

export interface AdmissionRequest {
  frontend: string;
  userId: string;
  db: BaseDBController;
  /** The user's tasks queued or running, as read with the user's check (BaseDBController.submitterFacts). */
  unfinished: number;
  /** The frontend's queued tasks, read with them. */
  queued: number;
}

/** A queue_full client comes back after about this long (a few jobs' worth). */
const queueFullRetrySeconds = 30;
/** A user at the task cap comes back after about one job's worth. */
const tooManyTasksRetrySeconds = 10;

/**
 * Fair use of the GPUs, asked before a submit touches storage or ComfyUI: the frontend's quota,
 * the user's unfinished tasks (counting those being submitted right now, so a burst of parallel
 * submits cannot all pass one count), and the pool's pending work per healthy server.
 */
export class Admission {
  private readonly admitting = new Map<string, number>();

  constructor(
    private readonly limits: Limits,
    private readonly pool: ComfyPool,
    private readonly clock: Clock,
    /**
     * Late scheduling: how many tasks the other frontends have queued (waiting in the gateway or
     * prepared on a server); the request brings its own frontend's. The ceiling then bounds the
     * gateway's queue: POOL_MAX_PENDING_PER_SERVER per healthy server.
     */
    private readonly othersQueued: ((frontend: string) => Promise<number>) | null = null,
  ) {}

  /** Runs `submit` if admitted, or throws AdmissionRefused (429 / 503). */
  async admit<T>(request: AdmissionRequest, submit: () => Promise<T>): Promise<T> {
    const key = `${request.frontend}:${request.userId}`;
    this.admitting.set(key, (this.admitting.get(key) ?? 0) + 1);
    try {
      await this.check(request, (this.admitting.get(key) ?? 1) - 1);
      return await submit();
    } finally {
      const left = (this.admitting.get(key) ?? 1) - 1;
      if (left === 0) this.admitting.delete(key);
      else this.admitting.set(key, left);
    }
  }

  private async check(request: AdmissionRequest, inFlight: number): Promise<void> {
    // Both reads at once (independent round trips); refusals keep their order: queue, quota, cap.
    const [others, quota] = await Promise.all([
      this.othersQueued?.(request.frontend),
      request.db.submitQuota(request.userId, { logoDailyQuota: this.limits.logoDailyQuota }),
    ]);
    if (others === undefined) this.checkPool();
    else this.checkGatewayQueue(request.queued + others);
    if (quota) {
      const seconds = Math.max(1, Math.ceil((quota.resetsAt.getTime() - this.clock.now().getTime()) / 1000));
      throw new AdmissionRefused("quota_exceeded", quota.message, seconds, { resetsAt: quota.resetsAt.toISOString() });
    }
    const cap = this.limits.maxUnfinishedTasksBy[request.frontend] ?? this.limits.maxUnfinishedTasks;
    const unfinished = request.unfinished + inFlight;
    if (unfinished >= cap) {
      throw new AdmissionRefused("too_many_tasks", `At most ${cap} unfinished tasks per user; wait for one to finish`, tooManyTasksRetrySeconds, { limit: cap });
    }
  }

  /** The gateway's queue holds the ceiling's worth per healthy server (at least one): 503 until some drain. */
  private checkGatewayQueue(queued: number): void {
    const healthy = Math.max(1, this.pool.snapshot().servers.filter((server) => server.healthy).length);
    if (queued >= this.limits.poolMaxPendingPerServer * healthy) {
      throw new AdmissionRefused("queue_full", "The queue of tasks waiting for a GPU is full; try again shortly", queueFullRetrySeconds);
    }
  }

  /** Every healthy server holds the ceiling's worth of pending jobs: 503 until some drain. */
  private checkPool(): void {
    const healthy = this.pool.snapshot().servers.filter((server) => server.healthy);
    if (healthy.length === 0) return; // the submit answers comfy_unavailable itself
    // The server's whole queue (running + pending) plus prompts just sent that no reading includes yet.
    const pending = (server: (typeof healthy)[number]) => (server.queue?.running ?? 0) + (server.queue?.pending ?? 0) + server.localPending;
    if (healthy.every((server) => pending(server) >= this.limits.poolMaxPendingPerServer)) {
      throw new AdmissionRefused("queue_full", "Every GPU server's queue is full; try again shortly", queueFullRetrySeconds);
    }
  }
}
