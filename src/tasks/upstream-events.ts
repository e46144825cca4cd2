import type { ComfyMessage } from "../comfy/events.ts";
import type { ComfyStreamEvent } from "../comfy/event-stream.ts";
import type { TaskContext } from "./task-context.ts";
import type { TaskLifecycle } from "./task-lifecycle.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import { overallPercent, type LiveTask } from "./live-task.ts";
import { taskKey } from "../realtime/task-key.ts";

/** Applies one ComfyUI message to the task it belongs to. */
export async function applyMessage(
  ctx: TaskContext,
  lifecycle: TaskLifecycle,
  finisher: TaskFinisher,
  reconcile: (task: LiveTask) => Promise<void>,
  task: LiveTask,
  message: ComfyMessage,
): Promise<void> {
  const key = taskKey(task.frontend, task.taskId);
  switch (message.type) {
    case "execution_start":
      await lifecycle.start(task.frontend, task.taskId);
      return;
    case "execution_cached":
      task.cachedNodes = message.data.nodes.length;
      task.graph.setCached(message.data.nodes);
      return;
    case "executing":
      if (message.data.node === null) {
        // Servers too old to send execution_success end here; history tells how it went.
        if (ctx.live.byTaskKey(task.frontend, task.taskId) === task) await reconcile(task);
        return;
      }
      task.currentNode = message.data.node;
      task.executedNodes.add(message.data.node);
      ctx.hub.publish(key, { type: "executing", taskId: task.taskId, node: message.data.node });
      return;
    case "progress": {
      // Where progress_state comes, it has said this already, with the whole graph's percent.
      if (sendsProgressState(ctx, task)) return;
      const { value, max } = message.data;
      const node = message.data.node ?? task.currentNode;
      ctx.hub.publish(key, { type: "progress", taskId: task.taskId, node, value, max, percent: overallPercent(task, value, max) });
      return;
    }
    case "executed":
      if (task.outputNodes.has(message.data.node)) task.outputs.push(...(message.data.output?.images ?? []));
      return;
    case "execution_success":
      return finisher.succeed(task, task.outputs);
    case "execution_error": {
      const { node_id: node, node_type: type, exception_message: reason } = message.data;
      return finisher.fail(task, `${type} (node ${node}) failed: ${reason.trim()}`, node);
    }
    case "execution_interrupted":
      if (task.cancelRequested) return finisher.cancel(task);
      return finisher.fail(task, `Interrupted on the ComfyUI server at node ${message.data.node_id}`, message.data.node_id);
    case "progress_state": {
      const update = sendsProgressState(ctx, task) ? task.graph.update(message) : null;
      if (update !== null) ctx.hub.publish(key, { type: "progress", taskId: task.taskId, ...update });
      return;
    }
    case "status":
      return;
  }
}

/** Whether the task's server was learned to send `progress_state` (current releases). */
function sendsProgressState(ctx: TaskContext, task: LiveTask): boolean {
  return ctx.servers.clientFor(task.serverId).capabilities?.progressState === true;
}

/** The prompt a stream event is about, if any. */
export function promptIdOf(event: ComfyStreamEvent): string | null {
  if (event.type === "preview") return event.promptId;
  if ("data" in event && event.data && typeof event.data === "object" && "prompt_id" in event.data) {
    return typeof event.data.prompt_id === "string" ? event.data.prompt_id : null;
  }
  return null;
}
