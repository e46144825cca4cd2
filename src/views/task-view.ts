import type { ProgressEvent } from "../jobs/task-events.ts";
import type { Photo } from "../schema/index.ts";
import type { PublicRefs } from "./public-refs.ts";

/**
 * The 202 answer of a submit: enough to poll and subscribe. Always says `queued`, as the first
 * answer did, so a replay under the same Idempotency-Key answers the very same body.
 */
export function submittedTaskView(photo: Photo, refs: PublicRefs) {
  return { id: photo.id, status: "queued" as const, workflow: photo.workflow, server: refs.serverName(photo.serverId), createdAt: photo.createdAt.toISOString() };
}

/** A task with its progress so far (while it runs) and its outputs or error (once it ended). */
export function taskView(photo: Photo, progress: ProgressEvent | undefined, refs: PublicRefs) {
  return {
    id: photo.id,
    status: photo.status,
    workflow: photo.workflow,
    params: photo.params,
    server: refs.serverName(photo.serverId),
    progress:
      progress && photo.status === "running"
        ? { node: progress.node, value: progress.value, max: progress.max, percent: progress.percent }
        : null,
    inputUrl: photo.inputUrl ? refs.inputUrl(photo.inputUrl) : null,
    outputUrls: photo.outputUrls,
    error: photo.error,
    createdAt: photo.createdAt.toISOString(),
    startedAt: photo.startedAt?.toISOString() ?? null,
    finishedAt: photo.finishedAt?.toISOString() ?? null,
  };
}
