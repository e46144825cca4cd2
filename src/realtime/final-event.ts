import type { FinalTaskEvent } from "./task-events.ts";
import type { TaskRow } from "../schema/index.ts";

/** The final message a finished task's row stands for, or null while it is still going. */
export function finalEventOf(task: TaskRow): FinalTaskEvent | null {
  switch (task.status) {
    case "succeeded":
      return { type: "succeeded", taskId: task.id, outputUrls: task.outputUrls };
    case "failed":
      return { type: "failed", taskId: task.id, message: task.error ?? "failed", node: null };
    case "cancelled":
      return { type: "cancelled", taskId: task.id };
    default:
      return null;
  }
}
