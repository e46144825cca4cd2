import type { FinalTaskEvent } from "./task-events.ts";
import type { Photo } from "../schema/index.ts";

/** The final message a finished task's row stands for, or null while it is still going. */
export function finalEventOf(photo: Photo): FinalTaskEvent | null {
  switch (photo.status) {
    case "succeeded":
      return { type: "succeeded", taskId: photo.id, outputUrls: photo.outputUrls };
    case "failed":
      return { type: "failed", taskId: photo.id, message: photo.error ?? "failed", node: null };
    case "cancelled":
      return { type: "cancelled", taskId: photo.id };
    default:
      return null;
  }
}
