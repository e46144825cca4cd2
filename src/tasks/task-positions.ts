import { aheadOf } from "../comfy/comfy-client.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { taskKey } from "../realtime/task-key.ts";
import { finishedStatuses, type TaskRow, type TaskStatus } from "../schema/index.ts";
import type { LiveTask } from "./live-task.ts";
import type { QueueAnnouncer } from "./queue-announcer.ts";
import type { QueueOrder } from "./queue-order.ts";
import type { QueueReads } from "./queue-reads.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import { followable } from "./task-resumer.ts";
import type { UpstreamWatch } from "./upstream-watch.ts";

/** The answer to a client's poll (GET /api/queue): where a task stands, in its own terms. */
export interface TaskPosition {
  taskId: string;
  status: TaskStatus;
  running: boolean;
  ahead: number;
}

/**
 * Where a task stands, for GET /api/queue: waiting in the gateway (the fair order's shared
 * snapshot), on a server (its shared /queue answer), running, or ended.
 */
export class TaskPositions {
  constructor(
    private readonly ctx: TaskContext,
    private readonly parts: { queues: QueueReads; order: QueueOrder; announcer: QueueAnnouncer; watch: UpstreamWatch },
    /** Late scheduling counts only the tasks that will start before; early keeps ComfyUI's count. */
    private readonly late: boolean,
  ) {}

  /** The client's poll: is the task running now, or how many are ahead of it. */
  async position(frontend: Frontend, row: TaskRow): Promise<TaskPosition> {
    const key = taskKey(frontend, row.id);
    const running: TaskPosition = { taskId: row.id, status: "running", running: true, ahead: 0 };
    if (row.status === "queued" && row.promptId === null) return this.waitingPosition(frontend, row);
    if (finishedStatuses.includes(row.status) || !followable(this.ctx, row)) {
      this.parts.announcer.forget(key);
      return { taskId: row.id, status: row.status, running: false, ahead: 0 };
    }
    const live = this.ctx.live.byTaskKey(frontend, row.id);
    if (live?.endUnrecorded) return this.leftQueue(frontend, row, live);
    // ComfyUI said it started: a queue answer from before that must not put it back in line.
    if (row.status === "running") return running;
    let place = aheadOf(await this.parts.queues.read(row.serverId), row.promptId);
    if (!place) {
      // The shared answer may predate the task (another replica queued it): ask once more, with an
      // answer from after the task was queued, which lists it if it still waits or runs.
      const queuedAt = live?.queuedAt ?? row.createdAt.getTime();
      place = aheadOf(await this.parts.queues.read(row.serverId, queuedAt), row.promptId);
    }
    if (place?.running) return running;
    if (place) {
      // Late scheduling counts the tasks that will start before this one (the gateway's waiting
      // ones count the same way); early binding keeps ComfyUI's count, running ones included.
      const ahead = this.late ? place.pendingAhead : place.ahead;
      // A task this replica follows and no longer holds has ended: its followers heard the end.
      const endedHere = row.gatewayId === this.ctx.gatewayId && (!live || live.ending !== null);
      if (!endedHere) this.parts.announcer.announce(key, row.id, ahead);
      return { taskId: row.id, status: "queued", running: false, ahead };
    }
    return this.leftQueue(frontend, row, live);
  }

  /**
   * A task waiting in the gateway (or being handed to a server): the tasks prepared on servers
   * start before it, then those ahead of it in the fair order. One snapshot serves every poller.
   */
  private async waitingPosition(frontend: Frontend, row: TaskRow): Promise<TaskPosition> {
    const key = taskKey(frontend, row.id);
    let snapshot = await this.parts.order.read();
    // Submitted (or put back) after this snapshot was computed: one read computed after that.
    if (!snapshot.position.has(key) && row.serverId === null) snapshot = await this.parts.order.read(Date.now() - 1);
    const index = snapshot.position.get(key);
    let ahead: number;
    if (index !== undefined) ahead = snapshot.prepared.length + index;
    else {
      // Being handed to a server: behind the ones prepared there before it.
      const serverId = snapshot.prepared.find((entry) => entry.row.id === row.id)?.row.serverId ?? row.serverId;
      ahead = snapshot.prepared.filter((entry) => entry.row.serverId === serverId && entry.row.id !== row.id).length;
    }
    this.parts.announcer.announce(key, row.id, ahead);
    return { taskId: row.id, status: "queued", running: false, ahead };
  }

  /**
   * The task is in no queue of its server: ComfyUI is done with it. Its end is being recorded, or
   * was missed (then its server is asked once). Until the row says how it ended, it is past
   * waiting in line: running.
   */
  private async leftQueue(frontend: Frontend, row: TaskRow, live: LiveTask | undefined): Promise<TaskPosition> {
    if (live && !live.ending) await this.parts.watch.reconcile(live);
    const now = (await controllerOf(this.ctx, frontend).getTask(row.id)) ?? row;
    if (finishedStatuses.includes(now.status)) return { taskId: row.id, status: now.status, running: false, ahead: 0 };
    return { taskId: row.id, status: "running", running: true, ahead: 0 };
  }
}
