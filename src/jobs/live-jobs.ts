import type { ComfyStreamEvent } from "../comfy/event-stream.ts";
import type { LiveJob } from "./live-job.ts";
import { taskKey } from "./task-key.ts";

const earlyEventLimit = 256;
const earlyEventTtlMs = 30_000;

function promptKey(serverId: string, promptId: string): string {
  return `${serverId}|${promptId}`;
}

/**
 * The jobs being followed, by task and by (server, prompt). Messages can arrive for a prompt
 * before its POST /prompt answer is read (a fast job on a 0.3.x server); those are held briefly
 * and handed over when the job is added.
 */
export class LiveJobs {
  private readonly byPrompt = new Map<string, LiveJob>();
  private readonly byTask = new Map<string, LiveJob>();
  private readonly early = new Map<string, { at: number; events: ComfyStreamEvent[] }>();

  constructor(private readonly now: () => number = Date.now) {}

  add(job: LiveJob): ComfyStreamEvent[] {
    this.byPrompt.set(promptKey(job.serverId, job.promptId), job);
    this.byTask.set(taskKey(job.frontend, job.taskId), job);
    const held = this.early.get(promptKey(job.serverId, job.promptId));
    this.early.delete(promptKey(job.serverId, job.promptId));
    return held?.events ?? [];
  }

  remove(job: LiveJob): void {
    this.byPrompt.delete(promptKey(job.serverId, job.promptId));
    if (this.byTask.get(taskKey(job.frontend, job.taskId)) === job) this.byTask.delete(taskKey(job.frontend, job.taskId));
  }

  byPromptId(serverId: string, promptId: string): LiveJob | undefined {
    return this.byPrompt.get(promptKey(serverId, promptId));
  }

  byTaskKey(frontend: string, taskId: string): LiveJob | undefined {
    return this.byTask.get(taskKey(frontend, taskId));
  }

  onServer(serverId: string): LiveJob[] {
    return [...this.byPrompt.values()].filter((job) => job.serverId === serverId);
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
