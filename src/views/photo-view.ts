import type { Photo } from "../schema/index.ts";

/** A photos row as the API shows it: a job with its outputs, without ComfyUI internals. */
export function photoView(photo: Photo) {
  return {
    id: photo.id,
    userId: photo.userId,
    workflow: photo.workflow,
    params: photo.params,
    status: photo.status,
    server: photo.serverId,
    inputUrl: photo.inputUrl,
    outputUrls: photo.outputUrls,
    error: photo.error,
    createdAt: photo.createdAt.toISOString(),
    updatedAt: photo.updatedAt.toISOString(),
    startedAt: photo.startedAt?.toISOString() ?? null,
    finishedAt: photo.finishedAt?.toISOString() ?? null,
  };
}

export type PhotoView = ReturnType<typeof photoView>;
