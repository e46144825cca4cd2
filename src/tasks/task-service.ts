import { aheadOf } from "../comfy/comfy-client.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { finishedStatuses, type TaskRow, type TaskStatus } from "../schema/index.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import { TaskFinisher } from "./task-finisher.ts";
import { endings, TaskLifecycle } from "./task-lifecycle.ts";
import { followable, TaskResumer } from "./task-resumer.ts";
import type { LiveTask } from "./live-task.ts";
import { QueueAnnouncer } from "./queue-announcer.ts";
import { QueueReads } from "./queue-reads.ts";
import { Reconciler } from "./reconciler.ts";
import { taskKey } from "../realtime/task-key.ts";
import { TaskSubmitter, type SubmitInput } from "./task-submitter.ts";
import { UpstreamWatch } from "./upstream-watch.ts";

export interface TaskServiceOptions {
  /** How long one upstream /queue answer serves every poll of that server. */
  queueReadWindowMs?: number;
  /** A server whose stream stays down this long has its tasks failed. */
  lostAfterMs?: number;
}

/** The answer to a client's poll (GET /api/queue): where a task stands, in its own terms. */
export interface TaskPosition {
  taskId: string;
  status: TaskStatus;
  running: boolean;
  ahead: number;
}

/** Tasks end to end: submit, where a task stands, cancel, and following them on their servers. */
export class TaskService {
  private readonly finisher: TaskFinisher;
  private readonly watch: UpstreamWatch;
  private readonly submitter: TaskSubmitter;
  private readonly resumer: TaskResumer;
  private readonly queues: QueueReads;
  private readonly announcer: QueueAnnouncer;
  private readonly lifecycle: TaskLifecycle;

  constructor(
    private readonly ctx: TaskContext,
    options: TaskServiceOptions = {},
  ) {
    this.queues = new QueueReads(ctx.servers, options.queueReadWindowMs ?? 500);
    this.announcer = new QueueAnnouncer(ctx.hub);
    this.lifecycle = new TaskLifecycle(ctx);
    this.finisher = new TaskFinisher(ctx, this.lifecycle, (task) => this.announcer.forget(taskKey(task.frontend, task.taskId)));
    const reconciler = new Reconciler(ctx, this.finisher, this.queues);
    const lostAfterMs = options.lostAfterMs ?? 30_000;
    this.watch = new UpstreamWatch(ctx, this.lifecycle, this.finisher, reconciler, lostAfterMs);
    this.submitter = new TaskSubmitter(ctx, this.watch, this.queues, this.finisher);
    this.resumer = new TaskResumer(ctx, this.watch, this.finisher, lostAfterMs);
  }

  submit(input: SubmitInput) {
    return this.submitter.submit(input);
  }

  /** Re-follows every unfinished task after a start, reading each one's fate once from its server. */
  resume(): Promise<void> {
    return this.resumer.resume();
  }

  /** The client's poll: is the task running now, or how many are ahead of it. */
  async position(frontend: Frontend, row: TaskRow): Promise<TaskPosition> {
    const key = taskKey(frontend, row.id);
    const running: TaskPosition = { taskId: row.id, status: "running", running: true, ahead: 0 };
    if (finishedStatuses.includes(row.status) || !followable(this.ctx, row)) {
      this.announcer.forget(key);
      return { taskId: row.id, status: row.status, running: false, ahead: 0 };
    }
    const live = this.ctx.live.byTaskKey(frontend, row.id);
    if (live?.endUnrecorded) return this.leftQueue(frontend, row, live);
    // ComfyUI said it started: a queue answer from before that must not put it back in line.
    if (row.status === "running") return running;
    let place = aheadOf(await this.queues.read(row.serverId), row.promptId);
    if (!place) {
      // The shared answer may predate the task (another replica queued it): ask once more, with an
      // answer from after the task was queued, which lists it if it still waits or runs.
      const queuedAt = live?.queuedAt ?? row.createdAt.getTime();
      place = aheadOf(await this.queues.read(row.serverId, queuedAt), row.promptId);
    }
    if (place?.running) return running;
    if (place) {
      // A task this replica follows and no longer holds has ended: its followers heard the end.
      const endedHere = row.gatewayId === this.ctx.gatewayId && (!live || live.ending !== null);
      if (!endedHere) this.announcer.announce(key, row.id, place.ahead);
      return { taskId: row.id, status: "queued", running: false, ahead: place.ahead };
    }
    return this.leftQueue(frontend, row, live);
  }

  /**
   * The task is in no queue of its server: ComfyUI is done with it. Its end is being recorded, or
   * was missed (then its server is asked once). Until the row says how it ended, it is past
   * waiting in line: running.
   */
  private async leftQueue(frontend: Frontend, row: TaskRow, live: LiveTask | undefined): Promise<TaskPosition> {
    if (live && !live.ending) await this.watch.reconcile(live);
    const now = (await controllerOf(this.ctx, frontend).getTask(row.id)) ?? row;
    if (finishedStatuses.includes(now.status)) return { taskId: row.id, status: now.status, running: false, ahead: 0 };
    return { taskId: row.id, status: "running", running: true, ahead: 0 };
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
    return (await db.getTask(row.id)) ?? row;
  }

  /** How many tasks this replica is following now. */
  get following(): number {
    return this.ctx.live.size;
  }

  close(): void {
    this.resumer.close();
    this.watch.close();
  }
}
