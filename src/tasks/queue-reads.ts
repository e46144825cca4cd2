import type { QueueState } from "../comfy/schemas.ts";
import { coalescedReader, type CoalescedReader } from "../lib/coalesced-reader.ts";
import type { TaskServers } from "./task-servers.ts";

/**
 * Every upstream /queue read the tasks make, one shared reader per server: client polls, the
 * reconciler, cancels and withdrawn submits all go through it, so however many ask, a server is
 * read once a window. (The pool's health checks read it on their own timer.)
 */
export class QueueReads {
  private readonly readers = new Map<string, CoalescedReader<QueueState>>();

  constructor(
    private readonly servers: TaskServers,
    private readonly windowMs: number,
  ) {}

  /** A recent answer; with `notBefore`, one whose request started after that instant (ms). */
  read(serverId: string, notBefore?: number): Promise<QueueState> {
    return this.reader(serverId).read(notBefore);
  }

  /** A prompt was queued on (or taken off) this server: the cached answer no longer holds. */
  invalidate(serverId: string): void {
    this.readers.get(serverId)?.invalidate();
  }

  private reader(serverId: string): CoalescedReader<QueueState> {
    let reader = this.readers.get(serverId);
    if (!reader) {
      const client = this.servers.clientFor(serverId);
      reader = coalescedReader(() => client.getQueue(), { maxAgeMs: this.windowMs });
      this.readers.set(serverId, reader);
    }
    return reader;
  }
}
