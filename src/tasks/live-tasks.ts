import type { ComfyStreamEvent } from "../comfy/event-stream.ts";
import type { LiveTask } from "./live-task.ts";
import { taskKey } from "../realtime/task-key.ts";

const earlyEventLimit = 256;
const earlyEventTtlMs = 30_000;

function promptKey(serverId: string, promptId: string): string {
  return `${serverId}|${promptId}`;
}

/**
 * The tasks being followed, by task and by (server, prompt). Messages can arrive for a prompt
 * before its POST /prompt answer is read (a fast task on a 0.3.x server); those are held briefly
 * and handed over when the task is added.
 */
export class LiveTasks {
  private readonly byPrompt = new Map<string, LiveTask>();
  private readonly byTask = new Map<string, LiveTask>();
  private readonly early = new Map<string, { at: number; events: ComfyStreamEvent[] }>();

  constructor(private readonly now: () => number = Date.now) {}

  add(task: LiveTask): ComfyStreamEvent[] {
    this.byPrompt.set(promptKey(task.serverId, task.promptId), task);
    this.byTask.set(taskKey(task.frontend, task.taskId), task);
    const held = this.early.get(promptKey(task.serverId, task.promptId));
    this.early.delete(promptKey(task.serverId, task.promptId));
    return held?.events ?? [];
  }

  remove(task: LiveTask): void {
    this.byPrompt.delete(promptKey(task.serverId, task.promptId));
    if (this.byTask.get(taskKey(task.frontend, task.taskId)) === task) this.byTask.delete(taskKey(task.frontend, task.taskId));
  }

  byPromptId(serverId: string, promptId: string): LiveTask | undefined {
    return this.byPrompt.get(promptKey(serverId, promptId));
  }

  byTaskKey(frontend: string, taskId: string): LiveTask | undefined {
    return this.byTask.get(taskKey(frontend, taskId));
  }

  /** Every task followed here. */
  all(): LiveTask[] {
    return [...this.byTask.values()];
  }

  onServer(serverId: string): LiveTask[] {
    return [...this.byPrompt.values()].filter((task) => task.serverId === serverId);
  }

  /** Whether events are held for a prompt nobody follows yet. */
  holdsEarly(serverId: string, promptId: string): boolean {
    return this.early.has(promptKey(serverId, promptId));
  }

  /** Keeps an event for a prompt nobody follows yet (bounded in count and age). */
  holdEarly(serverId: string, promptId: string, event: ComfyStreamEvent): void {
    const now = this.now();
    for (const [key, entry] of this.early) if (now - entry.at > earlyEventTtlMs) this.early.delete(key);
    const key = promptKey(serverId, promptId);
    const entry = this.early.get(key) ?? { at: now, events: [] };
    if (entry.events.length < earlyEventLimit) entry.events.push(event);
    this.early.set(key, entry);
    if (this.early.size > earlyEventLimit) this.early.delete(this.early.keys().next().value!);
  }

  get size(): number {
    return this.byPrompt.size;
  }
}
