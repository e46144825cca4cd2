import type { ComfyMessage } from "../comfy/events.ts";
import type { ComfyStreamEvent } from "../comfy/event-stream.ts";
import { controllerOf, type JobContext } from "./job-context.ts";
import type { JobFinisher } from "./job-finisher.ts";
import { overallPercent, type LiveJob } from "./live-job.ts";
import { taskKey } from "./task-key.ts";

/** Applies one ComfyUI message to the job it belongs to. */
export async function applyMessage(
  ctx: JobContext,
  finisher: JobFinisher,
  reconcile: (job: LiveJob) => Promise<void>,
  job: LiveJob,
  message: ComfyMessage,
): Promise<void> {
  const key = taskKey(job.frontend, job.taskId);
  switch (message.type) {
    case "execution_start": {
      const started = await controllerOf(ctx, job.frontend).transitionPhoto(job.taskId, ["queued"], {
        status: "running",
        startedAt: ctx.clock.now(),
      });
      if (started) ctx.hub.publish(key, { type: "running", taskId: job.taskId });
      return;
    }
    case "execution_cached":
      job.cachedNodes = message.data.nodes.length;
      job.graph.setCached(message.data.nodes);
      return;
    case "executing":
      if (message.data.node === null) {
        // Servers too old to send execution_success end here; history tells how it went.
        if (ctx.live.byTaskKey(job.frontend, job.taskId) === job) await reconcile(job);
        return;
      }
      job.currentNode = message.data.node;
      job.executedNodes.add(message.data.node);
      ctx.hub.publish(key, { type: "executing", taskId: job.taskId, node: message.data.node });
      return;
    case "progress": {
      // Where progress_state comes, it has said this already, with the whole graph's percent.
      if (sendsProgressState(ctx, job)) return;
      const { value, max } = message.data;
      const node = message.data.node ?? job.currentNode;
      ctx.hub.publish(key, { type: "progress", taskId: job.taskId, node, value, max, percent: overallPercent(job, value, max) });
      return;
    }
    case "executed":
      if (job.outputNodes.has(message.data.node)) job.outputs.push(...(message.data.output?.images ?? []));
      return;
    case "execution_success":
      return finisher.succeed(job, job.outputs);
    case "execution_error": {
      const { node_id: node, node_type: type, exception_message: reason } = message.data;
      return finisher.fail(job, `${type} (node ${node}) failed: ${reason.trim()}`, node);
    }
    case "execution_interrupted":
      if (job.cancelRequested) return finisher.cancel(job);
      return finisher.fail(job, `Interrupted on the ComfyUI server at node ${message.data.node_id}`, message.data.node_id);
    case "progress_state": {
      const update = sendsProgressState(ctx, job) ? job.graph.update(message) : null;
      if (update !== null) ctx.hub.publish(key, { type: "progress", taskId: job.taskId, ...update });
      return;
    }
    case "status":
      return;
  }
}

/** Whether the job's server was learned to send `progress_state` (current releases). */
function sendsProgressState(ctx: JobContext, job: LiveJob): boolean {
  return ctx.servers.clientFor(job.serverId).capabilities?.progressState === true;
}

/** The prompt a stream event is about, if any. */
export function promptIdOf(event: ComfyStreamEvent): string | null {
  if (event.type === "preview") return event.promptId;
  if ("data" in event && event.data && typeof event.data === "object" && "prompt_id" in event.data) {
    return typeof event.data.prompt_id === "string" ? event.data.prompt_id : null;
  }
  return null;
}
