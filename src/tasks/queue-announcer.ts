import type { TaskHub } from "../realtime/task-hub.ts";

const remembered = 10_000;

/**
 * Tells a task's WebSocket followers its place in line when a poll learns that it changed. Keeps
 * the last place told per task until the task ends (TaskFinisher calls `forget`).
 */
export class QueueAnnouncer {
  private readonly lastAhead = new Map<string, number>();

  constructor(private readonly hub: TaskHub) {}

  announce(key: string, taskId: string, ahead: number): void {
    if (this.lastAhead.get(key) === ahead) return;
    this.lastAhead.delete(key);
    this.lastAhead.set(key, ahead);
    if (this.lastAhead.size > remembered) this.lastAhead.delete(this.lastAhead.keys().next().value!);
    this.hub.publish(key, { type: "queued", taskId, ahead });
  }

  forget(key: string): void {
    this.lastAhead.delete(key);
  }
}
