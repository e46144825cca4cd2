import type { Photo } from "../schema/index.ts";
import type { PublicRefs } from "./public-refs.ts";

/**
 * A photos row as the API shows it: a job with its outputs, without ComfyUI internals. The input
 * (a user's upload) is shown only as an expiring signed URL.
 */
export function photoView(photo: Photo, refs: PublicRefs) {
  return {
    id: photo.id,
    userId: photo.userId,
    workflow: photo.workflow,
    params: photo.params,
    status: photo.status,
    server: refs.serverName(photo.serverId),
    inputUrl: photo.inputUrl ? refs.inputUrl(photo.inputUrl) : null,
    outputUrls: photo.outputUrls,
    error: photo.error,
    createdAt: photo.createdAt.toISOString(),
    updatedAt: photo.updatedAt.toISOString(),
    startedAt: photo.startedAt?.toISOString() ?? null,
    finishedAt: photo.finishedAt?.toISOString() ?? null,
  };
}

export type PhotoView = ReturnType<typeof photoView>;
