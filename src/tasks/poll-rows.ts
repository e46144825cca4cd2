import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { taskKey } from "../realtime/task-key.ts";
import type { TaskRow } from "../schema/index.ts";

/** How old a task's row may be when a poll answers from it (far under the pollers' second). */
export const pollRowMaxAgeMs = 250;
/** Rows of at most this many tasks are held (each for `pollRowMaxAgeMs`). */
const maxEntries = 10_000;

/**
 * The task rows that clients' polls (GET /api/queue) answer from, each read at most once per
 * `maxAgeMs` and shared by every poll of that task meanwhile: a thousand clients following a few
 * tasks cost a few reads per window, not a read per poll (on SQLite the read was about a third of
 * a poll's CPU). Ages are measured on the monotonic clock: the window bounds how stale an answer
 * is in real time, whatever the injected clock says. Nothing else reads rows through here: every
 * decision (dispatch, ending, cancel) reads the database itself.
 */
export class PollRows {
  // In the order they were read: all share one window, so the oldest are at the front.
  private readonly entries = new Map<string, { row: Promise<TaskRow | undefined>; at: number }>();

  constructor(
    private readonly controllers: ReadonlyMap<Frontend, BaseDBController>,
    private readonly maxAgeMs = pollRowMaxAgeMs,
    private readonly now: () => number = () => performance.now(),
  ) {}

  read(frontend: Frontend, id: string): Promise<TaskRow | undefined> {
    const key = taskKey(frontend, id);
    const at = this.now();
    const held = this.entries.get(key);
    if (held && at - held.at < this.maxAgeMs) return held.row;
    this.entries.delete(key);
    this.dropExpired(at);
    const controller = this.controllers.get(frontend);
    if (!controller) return Promise.reject(new Error(`frontend ${frontend} is not enabled`));
    const entry = { row: controller.getTask(id), at };
    this.entries.set(key, entry);
    // A failed read (database away) is not shared: the next poll asks again.
    entry.row.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.row;
  }

  get size(): number {
    return this.entries.size;
  }

  private dropExpired(at: number): void {
    for (const [key, entry] of this.entries) {
      if (at - entry.at < this.maxAgeMs && this.entries.size < maxEntries) return;
      this.entries.delete(key);
    }
  }
}
