import type { ComfyClient } from "../comfy/comfy-client.ts";
import type { ComfyEventStream } from "../comfy/event-stream.ts";

/** What the jobs need of the server pool. */
export interface JobServers {
  /** A healthy server with the least work that has these node classes, or null. */
  pick(options: { requiredNodes?: string[]; exclude?: string[] }): Promise<{ id: string } | null>;
  clientFor(serverId: string): ComfyClient;
  streamFor(serverId: string): ComfyEventStream;
  /** Counts a job just submitted, so picks in between checks spread load. */
  noteSubmitted(serverId: string): void;
  ids(): string[];
}
