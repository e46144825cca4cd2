import { ComfyUnavailableError, ComfyValidationError } from "../comfy/errors.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { AppError } from "../errors/app-error.ts";
import { isDuplicateKey } from "../errors/database-errors.ts";
import { randomId } from "../lib/ids.ts";
import type { TaskRow } from "../schema/index.ts";
import type { StoredObject } from "../storage/index.ts";
import type { ImageUpload } from "../upload/index.ts";
import { fillWorkflow, type WorkflowParams, type WorkflowTemplate } from "../workflows/index.ts";
import type { WaitingRow } from "./queue-order.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import { endings } from "./task-lifecycle.ts";
import { newLiveTask } from "./live-task.ts";
import type { QueueReads } from "./queue-reads.ts";
import { SingleFlight } from "./single-flight.ts";
import { StagedInput } from "./staged-input.ts";
import type { UpstreamWatch } from "./upstream-watch.ts";

/** Times one named stage of a submit (the route reports them as Server-Timing). */
export type StageTimer = <T>(stage: string, work: () => Promise<T>) => Promise<T>;

const untimed: StageTimer = (_stage, work) => work();

export interface SubmitInput {
  frontend: Frontend;
  userId: string;
  template: WorkflowTemplate;
  params: WorkflowParams;
  image: ImageUpload | null;
  idempotencyKey?: string;
  /** Orders this frontend's own waiting tasks (late scheduling). */
  priority?: number;
  /** The user's round-robin round (late scheduling), read with the user's check: BaseDBController.submitterFacts. */
  queueRound: number;
  /** The image's way to storage (TaskSubmitter.stage), when the caller started it; else stored here. */
  staged?: StagedInput | null;
  time?: StageTimer;
}

interface Queued {
  serverId: string;
  promptId: string;
  inputName: string | null;
}

/**
 * Turns a checked request into a queued ComfyUI prompt and its rows row. Servers that fail are
 * skipped for the next healthy one; the row is written only once a prompt is queued, and a prompt
 * whose row cannot be written is taken back off the queue, its stored input removed (where the
 * store can delete: OSS is PUT-only by product decision, so there the input stays) and, should the
 * insert have landed after all, its row marked failed.
 */
export class TaskSubmitter {
  private readonly idempotent = new SingleFlight<{ row: TaskRow; replayed: boolean }>();

  private lastSeq = 0;

  constructor(
    private readonly ctx: TaskContext,
    private readonly watch: UpstreamWatch,
    private readonly queues: QueueReads,
    private readonly finisher: TaskFinisher,
    /** Late scheduling: told of each task recorded to wait in the gateway (the dispatcher wakes); null binds at submit. */
    private readonly onWaiting: ((waiting: WaitingRow) => void) | null = null,
  ) {}

  async submit(input: SubmitInput): Promise<{ row: TaskRow; replayed: boolean }> {
    if (!input.idempotencyKey) return this.submitOnce(input);
    const key = `${input.frontend}:${input.userId}:${input.idempotencyKey}`;
    // Set (synchronously) only in the call that does the work: the others joined its flight and
    // get its answer as a replay.
    let leader = false;
    const outcome = await this.idempotent.run(key, async () => {
      leader = true;
      const existing = await controllerOf(this.ctx, input.frontend).findTaskByIdempotencyKey(input.userId, input.idempotencyKey!);
      if (existing) return { row: existing, replayed: true };
      return this.submitOnce(input);
    });
    return leader ? outcome : { ...outcome, replayed: true };
  }

  private async submitOnce(input: SubmitInput): Promise<{ row: TaskRow; replayed: boolean }> {
    return this.onWaiting ? this.recordWaiting(input, this.onWaiting) : this.bindNow(input);
  }

  /**
   * Late scheduling: the input is stored and the row written `queued` with no server; nothing is
   * asked of ComfyUI on the request path. The dispatcher hands it to a server when one has room.
   */
  private async recordWaiting(input: SubmitInput, onWaiting: (waiting: WaitingRow) => void): Promise<{ row: TaskRow; replayed: boolean }> {
    const db = controllerOf(this.ctx, input.frontend);
    const time = input.time ?? untimed;
    const image = input.image;
    const stored = image ? await this.storedInput(input, image, time) : null;
    const taskId = randomId();
    try {
      const row = await time("db", () => db.createTask({
        ...this.queuedRow(taskId, input, stored),
        inputKey: stored?.key ?? null,
        priority: input.priority ?? 0,
        queueRound: input.queueRound,
      }));
      this.ctx.metrics.tasksSubmitted.inc({ frontend: input.frontend, workflow: input.template.name });
      onWaiting({ frontend: input.frontend, row });
      return { row, replayed: false };
    } catch (error) {
      // The insert may have landed though its answer was lost: that row is failed (the client was
      // told the submit failed) and the input removed, as a bound submit does.
      await this.undoRecord(input.frontend, taskId, stored, "The task could not be recorded");
      if (input.idempotencyKey && isDuplicateKey(error)) {
        const winner = await db.findTaskByIdempotencyKey(input.userId, input.idempotencyKey);
        if (winner) return { row: winner, replayed: true };
      }
      throw error;
    }
  }

  /** What every new task's row holds, whichever scheduling records it. */
  private queuedRow(taskId: string, input: SubmitInput, stored: StoredObject | null) {
    return {
      id: taskId,
      userId: input.userId,
      workflow: input.template.name,
      params: input.params,
      status: "queued" as const,
      inputUrl: stored?.url ?? null,
      outputUrls: [],
      idempotencyKey: input.idempotencyKey ?? null,
      gatewayId: this.ctx.gatewayId,
      queueSeq: this.nextSeq(),
    };
  }

  /**
   * The submit sequence: milliseconds × 1000, made strictly increasing in this process, so replicas
   * interleave by time and one replica's submits never tie.
   */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, this.ctx.clock.now().getTime() * 1000);
    return this.lastSeq;
  }

  /** Early scheduling (SCHEDULING=early): a server is chosen and the prompt queued before the answer. */
  private async bindNow(input: SubmitInput): Promise<{ row: TaskRow; replayed: boolean }> {
    const db = controllerOf(this.ctx, input.frontend);
    const taskId = randomId();
    const time = input.time ?? untimed;
    const queued = await this.queueSomewhere(taskId, input, time);
    let markRecorded!: () => void;
    const recorded = new Promise<void>((resolve) => (markRecorded = resolve));
    const task = newLiveTask(
      {
        frontend: input.frontend,
        taskId,
        serverId: queued.serverId,
        promptId: queued.promptId,
        outputNodes: new Set(input.template.outputs),
        totalNodes: Object.keys(input.template.prompt).length,
      },
      recorded,
    );
    this.watch.follow(task);
    let stored: StoredObject | null = null;
    try {
      const image = input.image;
      stored = image ? await this.storedInput(input, image, time) : null;
      const row = await time("db", () => db.createTask({
        ...this.queuedRow(taskId, input, stored),
        serverId: queued.serverId,
        promptId: queued.promptId,
        inputName: queued.inputName,
        dispatchedAt: this.ctx.clock.now(),
      }));
      this.ctx.metrics.tasksSubmitted.inc({ frontend: input.frontend, workflow: input.template.name });
      return { row, replayed: false };
    } catch (error) {
      this.ctx.live.remove(task);
      await this.withdraw(queued);
      await this.undoRecord(input.frontend, taskId, stored);
      if (input.idempotencyKey && isDuplicateKey(error)) {
        // Another replica took the same key first: answer with its task.
        const winner = await db.findTaskByIdempotencyKey(input.userId, input.idempotencyKey);
        if (winner) return { row: winner, replayed: true };
      }
      throw error;
    } finally {
      markRecorded();
    }
  }

  private async queueSomewhere(taskId: string, input: SubmitInput, time: StageTimer): Promise<Queued> {
    const tried: string[] = [];
    for (;;) {
      const picked = await time("pick", () => this.ctx.servers.pick({
        requiredTags: [...input.template.requiredTags],
        requiredNodes: [...input.template.requiredNodes],
        requiredModels: [...input.template.requiresModels],
        exclude: [...tried],
      }));
      if (!picked) {
        const why = tried.length ? `the ${tried.length === 1 ? "server" : "servers"} tried failed` : "none that is up has the tags, node classes and model files this workflow needs";
        throw new AppError("comfy_unavailable", `No ComfyUI server can take this task now (${why}); try again shortly`);
      }
      const serverId = picked.id;
      tried.push(serverId);
      try {
        return await this.queueOn(serverId, taskId, input, time);
      } catch (error) {
        if (error instanceof ComfyValidationError) throw error;
        if (!(error instanceof ComfyUnavailableError)) throw error;
        this.ctx.logger.warn("submission failed; trying another server", { serverId, error: error.message });
      }
    }
  }

  private async queueOn(serverId: string, taskId: string, input: SubmitInput, time: StageTimer): Promise<Queued> {
    const client = this.ctx.servers.clientFor(serverId);
    // The socket must be open before the prompt: ComfyUI does not replay messages.
    await this.watch.attach(serverId);
    let inputName: string | null = null;
    const image = input.image;
    if (image) {
      const uploaded = await time("upload", () =>
        client.uploadImage({ bytes: image.bytes, filename: `aipack_${taskId}.${image.extension}`, contentType: image.contentType }),
      );
      inputName = uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name;
    }
    const prompt = fillWorkflow(input.template, input.params, inputName ? { image: inputName } : {});
    const { clientId } = this.ctx.servers.streamFor(serverId);
    const result = await time("prompt", () => client.queuePrompt({ prompt, clientId, extraData: { aipack_task: taskId } }));
    // A /queue answer cached before this prompt would tell its pollers it is in no queue.
    this.queues.invalidate(serverId);
    return { serverId, promptId: result.promptId, inputName };
  }

  /**
   * Starts the input image on its way to storage (see StagedInput): the caller hands it to submit,
   * or discards it when the submit ends without a row.
   */
  stage(frontend: Frontend, image: ImageUpload, time: StageTimer = untimed): StagedInput {
    return new StagedInput(this.ctx.storage, () => time("store", () => this.storeInput(frontend, image)));
  }

  private storedInput(input: SubmitInput, image: ImageUpload, time: StageTimer): Promise<StoredObject> {
    return input.staged ? input.staged.stored() : time("store", () => this.storeInput(input.frontend, image));
  }

  private storeInput(frontend: string, image: ImageUpload): Promise<StoredObject> {
    return this.ctx.storage.put({
      bytes: image.bytes,
      contentType: image.contentType,
      extension: image.extension,
      prefix: `${frontend}/inputs`,
      private: true,
    });
  }

  /**
   * Undoes what a failed submit left behind (best effort). The insert may have landed even though
   * its answer did not reach us: such a row is failed, so it does not stay queued forever.
   */
  private async undoRecord(frontend: Frontend, taskId: string, stored: StoredObject | null, message = "The task could not be recorded; it was taken back off ComfyUI"): Promise<void> {
    await this.finisher.endUnfollowed(frontend, taskId, endings.failed(taskId, message, null)).catch(() => false);
    if (stored) await this.ctx.storage.delete?.(stored.key).catch(() => undefined);
  }

  /** Takes a prompt back off its server (best effort: the row was never written). */
  private async withdraw(queued: Queued): Promise<void> {
    const client = this.ctx.servers.clientFor(queued.serverId);
    await client.deleteFromQueue([queued.promptId]).catch(() => undefined);
    const queue = await this.queues.read(queued.serverId, Date.now()).catch(() => null);
    if (queue?.running.some((item) => item.promptId === queued.promptId)) {
      await client.interrupt(queued.promptId).catch(() => undefined);
    }
    this.queues.invalidate(queued.serverId);
  }
}
