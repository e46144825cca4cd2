import type { Frontend } from "../controllers/db-controller-map.ts";
import type { TaskRow } from "../schema/index.ts";
import type { TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import { endings } from "./task-lifecycle.ts";
import { newLiveTask, type LiveTask } from "./live-task.ts";
import type { UpstreamWatch } from "./upstream-watch.ts";

/** A row the gateway can follow: its prompt is known and its server still configured. */
export function followable(ctx: TaskContext, row: TaskRow): row is TaskRow & { serverId: string; promptId: string } {
  return row.serverId !== null && row.promptId !== null && ctx.servers.ids().includes(row.serverId);
}

/**
 * Picks up, after a start, the tasks this replica left unfinished: follows each on its server's
 * stream, then reads its fate once. The order matters: reconciling before the stream is connected
 * would miss a task that ends in between (its messages go nowhere, and nothing reconciles again).
 */
export class TaskResumer {
  private closed = false;

  constructor(
    private readonly ctx: TaskContext,
    private readonly watch: UpstreamWatch,
    private readonly finisher: TaskFinisher,
    private readonly lostAfterMs: number,
  ) {}

  async resume(): Promise<void> {
    const byServer = new Map<string, LiveTask[]>();
    for (const [frontend, db] of this.ctx.controllers) {
      const rows = await db.listUnfinishedTasks(this.ctx.gatewayId).catch((error: unknown) => {
        this.ctx.logger.warn("could not list unfinished tasks; they are reconciled at the next start", { frontend, error: String(error) });
        return [];
      });
      for (const row of rows) {
        const task = this.followRow(frontend, row);
        if (!task) await this.orphan(frontend, row);
        else byServer.set(task.serverId, [...(byServer.get(task.serverId) ?? []), task]);
      }
    }
    await Promise.all([...byServer].map(([serverId, tasks]) => this.resumeOn(serverId, tasks)));
  }

  /** Follows a row's task on its server (a fresh LiveTask), or null when it cannot be followed. */
  followRow(frontend: Frontend, row: TaskRow): LiveTask | null {
    if (!followable(this.ctx, row)) return null;
    const template = this.ctx.workflows.get(frontend, row.workflow);
    const task = newLiveTask(
      {
        frontend,
        taskId: row.id,
        serverId: row.serverId,
        promptId: row.promptId,
        outputNodes: new Set(template?.outputs ?? []),
        totalNodes: template ? Object.keys(template.prompt).length : null,
      },
      Promise.resolve(),
    );
    this.watch.follow(task);
    return task;
  }

  close(): void {
    this.closed = true;
  }

  private async resumeOn(serverId: string, tasks: LiveTask[]): Promise<void> {
    const since = Date.now();
    // A server that is down now may come back: wait for its stream (each try waits a few seconds),
    // as long as a server that went away mid-run would be waited for.
    while (!(await this.watch.attach(serverId).then(() => true, () => false))) {
      if (this.closed) return;
      if (Date.now() - since >= this.lostAfterMs) {
        const message = `The ComfyUI server ${this.ctx.servers.publicName(serverId)} did not come back after the gateway restarted`;
        await Promise.all(tasks.map((task) => this.finisher.fail(task, message, null)));
        return;
      }
    }
    await Promise.all(tasks.map((task) => this.watch.reconcile(task)));
  }

  /** A task whose server left the configuration can never be followed again: it has failed. */
  private async orphan(frontend: Frontend, row: TaskRow): Promise<void> {
    const message = `Its ComfyUI server ${row.serverId ?? "(none)"} is no longer configured`;
    await this.finisher.endUnfollowed(frontend, row.id, endings.failed(row.id, message, null)).catch(
      (error: unknown) => this.ctx.logger.warn("could not fail a task whose server left the configuration", { taskId: row.id, error: String(error) }),
    );
  }
}
