import type { Frontend } from "../controllers/db-controller-map.ts";
import type { TaskContext } from "./task-context.ts";
import { controllerOf } from "./task-context.ts";

const seconds = (from: Date, to: Date) => Math.max(0, (to.getTime() - from.getTime()) / 1000);

/**
 * Counts an ending this replica recorded, with the task's wait in line (queued → running) and its
 * run (running → end). The row is read back for its workflow and times: one read per ended task,
 * off the ending's path (a failed read loses a sample, never an ending).
 */
export function observeEnding(ctx: TaskContext, frontend: Frontend, taskId: string, outcome: string): void {
  void controllerOf(ctx, frontend)
    .getTask(taskId)
    .then((row) => {
      if (!row) return;
      const labels = { frontend, workflow: row.workflow };
      ctx.metrics.tasksEnded.inc({ ...labels, outcome });
      if (row.startedAt) ctx.metrics.taskWait.observe(labels, seconds(row.createdAt, row.startedAt));
      if (row.startedAt && row.finishedAt) ctx.metrics.taskRun.observe({ ...labels, outcome }, seconds(row.startedAt, row.finishedAt));
    })
    .catch(() => undefined);
}
