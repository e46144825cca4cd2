import { heapify, heapPop, heapPush } from "./heap-queue.ts";
import type { FakeComfyCounters, FakeComfyOptions } from "./options.ts";
import type { PromptGraph } from "./validate.ts";

/** A queued prompt, as `/queue` lists it. */
export interface QueuedPrompt {
  number: number;
  promptId: string;
  prompt: PromptGraph;
  extraData: Record<string, unknown>;
  outputs: string[];
}

/** Queue 5-tuple `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
export function toTuple(item: QueuedPrompt): unknown[] {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputs];
}

/** The prompt's client id (routing key), or null to broadcast. */
export function clientIdOf(item: QueuedPrompt): string | null {
  const id = item.extraData.client_id;
  return typeof id === "string" ? id : null;
}

/** Everything the fake remembers: files, queue, history, counters and knobs. */
export class FakeStore {
  readonly inputs = new Map<string, Uint8Array>();
  readonly outputs = new Map<string, Uint8Array>();
  readonly history = new Map<string, Record<string, unknown>>();
  /** A heap on `number`, in heap order like ComfyUI's: change it only through the methods below. */
  readonly pending: QueuedPrompt[] = [];
  running: QueuedPrompt | null = null;
  nextNumber = 0;
  private readonly saveCounters = new Map<string, number>();
  private readonly heldRequests = new Set<{ keys: string[]; list: "holdRoutes" | "holdNodes"; release: () => void }>();

  constructor(
    public options: FakeComfyOptions,
    public counters: FakeComfyCounters,
  ) {}

  /**
   * Resolves once neither `path` nor `METHOD path` is in `options.holdRoutes` (at once if neither
   * is).
   */
  holdWhileListed(path: string, method: string): Promise<void> {
    const keys = [path, `${method} ${path}`];
    if (!keys.some((key) => this.options.holdRoutes.includes(key))) return Promise.resolve();
    this.counters.held += 1;
    return new Promise<void>((resolve) => this.heldRequests.add({ keys, list: "holdRoutes", release: resolve }));
  }

  /** Resolves once `classType` is no longer in `options.holdNodes` (at once if it is not). */
  holdNodeWhileListed(classType: string): Promise<void> {
    if (!this.options.holdNodes.includes(classType)) return Promise.resolve();
    return new Promise<void>((resolve) => this.heldRequests.add({ keys: [classType], list: "holdNodes", release: resolve }));
  }

  /** Lets go of the held requests and nodes taken off `holdRoutes` and `holdNodes`. */
  releaseHeld(): void {
    for (const held of this.heldRequests) {
      if (held.keys.some((key) => this.options[held.list].includes(key))) continue;
      this.heldRequests.delete(held);
      held.release();
    }
  }

  /** running + pending, as `exec_info.queue_remaining`. */
  queueRemaining(): number {
    return this.pending.length + (this.running === null ? 0 : 1);
  }

  /** Saves an output under ComfyUI's `prefix_00001_.png` counter naming; returns the file name. */
  saveOutput(prefix: string, bytes: Uint8Array): string {
    const n = (this.saveCounters.get(prefix) ?? 0) + 1;
    this.saveCounters.set(prefix, n);
    const filename = `${prefix}_${String(n).padStart(5, "0")}_.png`;
    this.outputs.set(filename, bytes);
    return filename;
  }

  /** Queues a prompt (heappush, as PromptQueue.put). */
  enqueue(item: QueuedPrompt): void {
    heapPush(this.pending, item);
  }

  /** Removes and returns the pending prompt with the lowest number (heappop, as PromptQueue.get). */
  takeNext(): QueuedPrompt | null {
    return heapPop(this.pending);
  }

  /** Drops pending prompts by id, then re-heapifies (as PromptQueue.delete_queue_item). */
  deletePending(ids: ReadonlySet<string>): void {
    for (let i = this.pending.length - 1; i >= 0; i--) if (ids.has(this.pending[i]?.promptId ?? "")) this.pending.splice(i, 1);
    heapify(this.pending);
  }
}
