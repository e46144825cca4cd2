import type { ComfyClient } from "../comfy/comfy-client.ts";
import type { ComfyEventStream } from "../comfy/event-stream.ts";

/** What the tasks need of the server pool. */
export interface TaskServers {
  /** A healthy server with the least work that has these tags, node classes and model files, or null. */
  pick(options: { requiredTags?: string[]; requiredNodes?: string[]; requiredModels?: string[]; exclude?: string[] }): Promise<{ id: string } | null>;
  /** Healthy servers with these tags, node classes and model files, least work per weight first. */
  eligibleFor(options: { requiredTags?: string[]; requiredNodes?: string[]; requiredModels?: string[] }): Promise<string[]>;
  weightOf(serverId: string): number;
  clientFor(serverId: string): ComfyClient;
  streamFor(serverId: string): ComfyEventStream;
  ids(): string[];
  /** The name clients see (configured, never host:port). */
  publicName(serverId: string): string | null;
}
