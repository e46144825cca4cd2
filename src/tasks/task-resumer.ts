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
 * Follows rows again: a row left unfinished by a previous run, or adopted from a replica that is
 * gone, becomes a LiveTask on its server's stream. The background reconciler decides which rows
 * and when (after the stream is connected, so that no ending falls between follow and reconcile).
 */
export class TaskResumer {
  constructor(
    private readonly ctx: TaskContext,
    private readonly watch: UpstreamWatch,
    private readonly finisher: TaskFinisher,
  ) {}

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

  /** A task whose server left the configuration can never be followed again: it has failed. */
  async orphan(frontend: Frontend, row: TaskRow): Promise<void> {
    const message = `Its ComfyUI server ${row.serverId ?? "(none)"} is no longer configured`;
    await this.finisher.endUnfollowed(frontend, row.id, endings.failed(row.id, message, null)).catch(
      (error: unknown) => this.ctx.logger.warn("could not fail a task whose server left the configuration", { taskId: row.id, error: String(error) }),
    );
  }
}
