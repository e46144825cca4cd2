import { aheadOf } from "../comfy/comfy-client.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { finishedStatuses, type TaskRow } from "../schema/index.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import { TaskFinisher } from "./task-finisher.ts";
import { endings, TaskLifecycle } from "./task-lifecycle.ts";
import { TaskResumer } from "./task-resumer.ts";
import type { LiveTask } from "./live-task.ts";
import { QueueAnnouncer } from "./queue-announcer.ts";
import { QueueReads } from "./queue-reads.ts";
import { Reconciler } from "./reconciler.ts";
import { taskKey } from "../realtime/task-key.ts";
import { TaskSubmitter, type StageTimer, type SubmitInput } from "./task-submitter.ts";
import type { StagedInput } from "./staged-input.ts";
import type { ImageUpload } from "../upload/index.ts";
import { TaskPositions, type TaskPosition } from "./task-positions.ts";
import { PollRows } from "./poll-rows.ts";
import { UpstreamWatch } from "./upstream-watch.ts";
import { BackgroundReconciler } from "./background-reconciler.ts";
import { soleReplica, type OwnerLeases } from "../realtime/owner-leases.ts";
import { inProcessLease, type DispatchLease } from "../realtime/dispatch-lease.ts";
import { Dispatcher } from "./dispatcher.ts";
import { QueueHead } from "./queue-head.ts";
import { QueueOrder, type WaitingRow } from "./queue-order.ts";
import { StaleClaims } from "./stale-claims.ts";
import { PreparedRebalance } from "./prepared-rebalance.ts";
import { TaskHandover } from "./task-handover.ts";

export interface TaskServiceOptions {
  /** How long one upstream /queue answer serves every poll of that server. */
  queueReadWindowMs?: number;
  /** A server whose stream stays down this long has its tasks failed. */
  lostAfterMs?: number;
  /** How often the background reconciler sweeps (jittered ±20 %). */
  reconcileIntervalMs?: number;
  /** Which replicas are alive, to adopt the tasks of those that are gone; a sole replica by default. */
  leases?: OwnerLeases;
  /** How tasks reach servers; late (waiting in the gateway) by default. */
  scheduling?: {
    policy: "late" | "early";
    depth?: number;
    /** An idle server takes back a task prepared behind another server's job; on by default. */
    steal?: boolean;
    weights?: Record<string, number>;
    maxWaitMs?: number;
    rescanMs?: number;
    /** Waiting tasks a dispatch pass reads per frontend at a time. */
    headPage?: number;
    leaseMs?: number;
    /** Who dispatches among replicas; this process alone by default. */
    lease?: DispatchLease;
  };
}

export type { TaskPosition } from "./task-positions.ts";

/** Tasks end to end: submit, where a task stands, cancel, and following them on their servers. */
export class TaskService {
  private readonly finisher: TaskFinisher;
  private readonly watch: UpstreamWatch;
  private readonly submitter: TaskSubmitter;
  private readonly resumer: TaskResumer;
  private readonly background: BackgroundReconciler;
  private readonly queues: QueueReads;
  private readonly announcer: QueueAnnouncer;
  private readonly lifecycle: TaskLifecycle;
  private readonly order: QueueOrder;
  /** Late scheduling only: hands waiting tasks to servers (on the replica holding the lease). */
  private readonly dispatcher: Dispatcher | null;
  private readonly late: boolean;
  private readonly positions: TaskPositions;
  private readonly pollRows: PollRows;

  constructor(
    private readonly ctx: TaskContext,
    options: TaskServiceOptions = {},
  ) {
    const scheduling = options.scheduling ?? { policy: "late" };
    const late = scheduling.policy === "late";
    this.late = late;
    this.queues = new QueueReads(ctx.servers, options.queueReadWindowMs ?? 500);
    this.order = new QueueOrder(ctx, scheduling.weights ?? {}, options.queueReadWindowMs ?? 500);
    this.announcer = new QueueAnnouncer(ctx.hub);
    this.lifecycle = new TaskLifecycle(ctx, () => this.queueChanged());
    this.finisher = new TaskFinisher(ctx, this.lifecycle, (task) => this.announcer.forget(taskKey(task.frontend, task.taskId)));
    const reconciler = new Reconciler(ctx, this.finisher, this.queues, late ? (task) => this.requeueForgotten(task) : undefined);
    const lostAfterMs = options.lostAfterMs ?? 30_000;
    this.watch = new UpstreamWatch(ctx, this.lifecycle, this.finisher, reconciler, lostAfterMs, {
      requeueUnstarted: late,
      onServerBack: () => this.queueChanged(),
    });
    this.pollRows = new PollRows(ctx.controllers);
    this.positions = new TaskPositions(ctx, { queues: this.queues, order: this.order, announcer: this.announcer, watch: this.watch }, late);
    this.submitter = new TaskSubmitter(ctx, this.watch, this.queues, this.finisher, late ? (waiting) => this.waitingAdded(waiting) : null);
    if (late) {
      const stale = new StaleClaims(ctx);
      const handover = new TaskHandover(ctx, this.watch, this.queues, this.finisher, stale.inFlight);
      const rebalance = scheduling.steal === false ? undefined : new PreparedRebalance(ctx, { handover, queues: this.queues });
      this.dispatcher = new Dispatcher(
        ctx,
        { order: this.order, head: new QueueHead(ctx, scheduling.weights ?? {}, scheduling.headPage ?? 64), handover, finisher: this.finisher, lease: scheduling.lease ?? inProcessLease, stale, rebalance },
        { depth: scheduling.depth ?? 1, maxWaitMs: scheduling.maxWaitMs ?? 600_000, rescanMs: scheduling.rescanMs ?? 2_000, leaseMs: scheduling.leaseMs ?? 6_000 },
      );
    } else {
      this.dispatcher = null;
    }
    this.resumer = new TaskResumer(ctx, this.watch, this.finisher);
    this.background = new BackgroundReconciler(
      ctx,
      { resumer: this.resumer, watch: this.watch, finisher: this.finisher, leases: options.leases ?? soleReplica },
      { intervalMs: options.reconcileIntervalMs ?? 5_000, batch: 500, lostAfterMs },
    );
  }

  /** Early binding: a task has its server when the submit answers. */
  get bindsAtSubmit(): boolean {
    return !this.late;
  }

  submit(input: SubmitInput) {
    return this.submitter.submit(input);
  }

  /** Starts a checked input image on its way to storage, ahead of its submit (see StagedInput). */
  stageInput(frontend: Frontend, image: ImageUpload, time?: StageTimer): StagedInput {
    return this.submitter.stage(frontend, image, time);
  }

  /**
   * Starts the background reconciler: a first sweep now re-follows what a previous run left
   * unfinished, and later sweeps settle whatever an outage left behind.
   */
  async resume(): Promise<void> {
    await this.background.start();
    if (!this.dispatcher) return;
    // Every server's stream is opened up front: a server is given tasks only while its stream is.
    for (const serverId of this.ctx.servers.ids()) void this.watch.attach(serverId).catch(() => undefined);
    await this.dispatcher.start();
  }

  /** Something that changes the gateway's queue happened here: fresh positions, and a dispatch pass. */
  queueChanged(): void {
    this.order.invalidate();
    this.dispatcher?.wake();
  }

  /** A task was submitted to wait here: one no live server can take says why at once. */
  private waitingAdded(waiting: WaitingRow): void {
    this.order.invalidate();
    this.dispatcher?.arrived(waiting);
  }

  /** A task its (restarted) server forgot before it started goes back to the queue at its place. */
  private async requeueForgotten(task: LiveTask): Promise<boolean> {
    const moved = await controllerOf(this.ctx, task.frontend).releaseTask(task.taskId, task.serverId).catch(() => false);
    if (!moved) return false;
    this.ctx.live.remove(task);
    this.ctx.logger.info("task back in the queue: its server no longer knew it and it had not started", { taskId: task.taskId, server: task.serverId });
    this.queueChanged();
    return true;
  }

  /**
   * Tasks queued now (waiting in the gateway or prepared on a server), counted in every frontend's
   * database: one indexed COUNT each, where the ordered snapshot would read and sort every queued
   * row again after each submit. A frontend whose database cannot be read counts none, as it is
   * missing from the snapshot: its outage must not refuse another frontend's submits. `except`:
   * a frontend left out (its count came with the submitter's facts).
   */
  async queuedCount(except?: string): Promise<number> {
    const counts = await Promise.all(
      [...this.ctx.controllers].filter(([frontend]) => frontend !== except).map(async ([, db]) => {
        try {
          await db.ready();
          return await db.queue.countQueued();
        } catch {
          return 0;
        }
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Resolves once no dispatch pass is running (tests wait on it instead of sleeping). */
  dispatchIdle(): Promise<void> {
    return this.dispatcher?.idle() ?? Promise.resolve();
  }

  /** The client's poll: is the task running now, or how many are ahead of it. */
  /** A task's row for a client's poll: at most `pollRowMaxAgeMs` old, one read shared by every poll of it. */
  pollRow(frontend: Frontend, id: string): Promise<TaskRow | undefined> {
    return this.pollRows.read(frontend, id);
  }

  position(frontend: Frontend, row: TaskRow): Promise<TaskPosition> {
    return this.positions.position(frontend, row);
  }

  /**
   * Cancels a task: off the queue if pending, interrupted if running. A finished task is left as it
   * is, and so is one ComfyUI has finished whose end is still being recorded.
   * Returns the row as it stands afterwards.
   */
  async cancel(frontend: Frontend, row: TaskRow): Promise<TaskRow> {
    const db = controllerOf(this.ctx, frontend);
    if (finishedStatuses.includes(row.status)) return row;
    const live = this.ctx.live.byTaskKey(frontend, row.id) ?? this.resumer.followRow(frontend, row);
    if (!live) {
      await this.finisher.endUnfollowed(frontend, row.id, endings.cancelled(row.id));
      return (await db.getTask(row.id)) ?? row;
    }
    this.lifecycle.requestCancel(live);
    const client = this.ctx.servers.clientFor(live.serverId);
    // Where it stands now, not a poll's cached answer: the wrong call would leave it running.
    const place = aheadOf(await this.queues.read(live.serverId, Date.now()), live.promptId);
    if (place?.running) await client.interrupt(live.promptId);
    else if (place) {
      await client.deleteFromQueue([live.promptId]);
      this.queues.invalidate(live.serverId);
    } else {
      // In neither queue: it ended on ComfyUI. That end wins; a task its server lost ends failed.
      await this.watch.reconcile(live);
    }
    // Waits for, instead of overriding, an end already recorded or under way.
    await this.finisher.cancel(live);
    this.queueChanged();
    return (await db.getTask(row.id)) ?? row;
  }

  /** How many tasks this replica is following now. */
  get following(): number {
    return this.ctx.live.size;
  }

  async close(): Promise<void> {
    this.background.close();
    await this.dispatcher?.close();
    this.watch.close();
  }
}
