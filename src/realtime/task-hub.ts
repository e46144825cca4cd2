import type { ProgressEvent, TaskEvent, TaskPreview } from "./task-events.ts";
import { isFinal } from "./task-events.ts";

export interface TaskListener {
  event(event: TaskEvent): void;
  preview?(preview: TaskPreview): void;
}

/** Carries task events to the other gateway replicas (see realtime/redis-relay.ts). */
export interface TaskRelay {
  publish(key: string, event: TaskEvent): void;
}

interface HubEntry {
  listeners: Set<TaskListener>;
  /** The latest executing / progress, replayed to whoever joins mid-run. */
  executing?: TaskEvent;
  progress?: ProgressEvent;
}

/** How many recently finished tasks are remembered, to drop their late events. */
const recentlyEndedLimit = 4_096;

/**
 * Fans a task's events out to everyone following it on this replica, and through the relay to the
 * other replicas. Only live tasks are held: a task's entry goes with its final event or its last
 * listener, so nothing accumulates per finished task.
 */
export class TaskHub {
  private readonly tasks = new Map<string, HubEntry>();
  /**
   * Tasks whose final event went by. Events can trail it (a poll's `queued` from a cached queue
   * answer, progress already in flight when a cancel was recorded): those are dropped, and must
   * not re-create an entry nobody would ever delete.
   */
  private readonly recentlyEnded = new Set<string>();
  private relay: TaskRelay | null = null;

  useRelay(relay: TaskRelay): void {
    this.relay = relay;
  }

  private entry(key: string): HubEntry {
    let task = this.tasks.get(key);
    if (!task) {
      task = { listeners: new Set() };
      this.tasks.set(key, task);
    }
    return task;
  }

  /** Follows a task; the latest executing/progress (if any) is delivered at once. */
  subscribe(key: string, listener: TaskListener): () => void {
    const task = this.entry(key);
    task.listeners.add(listener);
    if (task.executing) listener.event(task.executing);
    if (task.progress) listener.event(task.progress);
    return () => {
      const current = this.tasks.get(key);
      if (!current) return;
      current.listeners.delete(listener);
      if (current.listeners.size === 0) this.tasks.delete(key);
    };
  }

  /** An event of a task this replica follows: delivered here and relayed to the others. */
  publish(key: string, event: TaskEvent): void {
    this.deliver(key, event);
    this.relay?.publish(key, event);
  }

  /** An event relayed from another replica: delivered here only. */
  deliver(key: string, event: TaskEvent): void {
    if (this.recentlyEnded.has(key)) return;
    const final = isFinal(event);
    if (final) this.markEnded(key);
    // Only what is replayed to late joiners needs an entry without listeners; the rest reaches
    // whoever follows now, or nobody.
    const replayed = event.type === "executing" || event.type === "progress";
    const task = replayed ? this.entry(key) : this.tasks.get(key);
    if (!task) return;
    if (event.type === "executing") task.executing = event;
    if (event.type === "progress") task.progress = event;
    for (const listener of [...task.listeners]) listener.event(event);
    if (final) this.tasks.delete(key);
  }

  private markEnded(key: string): void {
    this.recentlyEnded.add(key);
    if (this.recentlyEnded.size > recentlyEndedLimit) this.recentlyEnded.delete(this.recentlyEnded.values().next().value!);
  }

  publishPreview(key: string, preview: TaskPreview): void {
    const task = this.tasks.get(key);
    if (!task) return;
    for (const listener of task.listeners) listener.preview?.(preview);
  }

  /** Latest known progress of a live task (for GET /api/tasks/:id). */
  latestProgress(key: string): ProgressEvent | undefined {
    return this.tasks.get(key)?.progress;
  }

  /** How many tasks are held in memory (for tests and the memory benchmark). */
  get size(): number {
    return this.tasks.size;
  }
}
