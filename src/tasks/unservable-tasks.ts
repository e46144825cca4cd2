import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { WorkflowTemplate } from "../workflows/index.ts";
import type { WaitingRow } from "./queue-order.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import { endings } from "./task-lifecycle.ts";

/** Waiting tasks of unservable workflows one sweep looks at, per frontend. */
const sweepLimit = 1_000;

/** What a workflow asks of a server. */
export function requirements(template: WorkflowTemplate) {
  return { requiredTags: [...template.requiredTags], requiredNodes: [...template.requiredNodes], requiredModels: [...template.requiresModels] };
}

/**
 * Waiting tasks no live server can take: the reason on their row, and their end once they waited
 * `maxWaitMs` for one. The dispatcher meets them at the head of the queue while a server has room;
 * the sweep (on the slow rescan) finds them wherever they wait, with or without room, by asking
 * which waiting workflows no live server can run.
 */
export class UnservableTasks {
  /** Since when (the context's clock, ms) each waiting task has had no live server able to take it. */
  private readonly since = new Map<string, number>();

  constructor(
    private readonly ctx: TaskContext,
    private readonly finisher: TaskFinisher,
    private readonly maxWaitMs: number,
    /** Whether a server may be given tasks now (up, its stream open, not paused). */
    private readonly dispatchable: (serverId: string) => boolean,
  ) {}

  /** The live servers that can run the workflow. */
  async liveFor(template: WorkflowTemplate): Promise<string[]> {
    return (await this.ctx.servers.eligibleFor(requirements(template))).filter((id) => this.dispatchable(id));
  }

  /** A live server can take the task (again): its wait for one ends. */
  servable(taskId: string): void {
    this.since.delete(taskId);
  }

  /** No live server can take the task: say why on its row, and fail it once it waited too long. */
  async noServer(waiting: WaitingRow, template: WorkflowTemplate): Promise<void> {
    const reason = await this.whyNone(template);
    // The wait counts from when no server could take it, not from the submit: a task that queued
    // behind others for long is not failed by a short outage.
    const now = this.ctx.clock.now().getTime();
    const since = this.since.get(waiting.row.id) ?? now;
    this.since.set(waiting.row.id, since);
    if (now - since >= this.maxWaitMs) {
      this.since.delete(waiting.row.id);
      return this.end(waiting, `No ComfyUI server could take this task within ${Math.round(this.maxWaitMs / 1000)} s: ${reason}`);
    }
    if (waiting.row.waitReason !== reason) await controllerOf(this.ctx, waiting.frontend).setWaitReason(waiting.row.id, reason).catch(() => undefined);
  }

  /** Fails a waiting task that will never be dispatched. */
  async end(waiting: WaitingRow, message: string): Promise<void> {
    const ending = endings.failed(waiting.row.id, message, null);
    await this.finisher.endUnfollowed(waiting.frontend, waiting.row.id, ending).catch(() => false);
  }

  /**
   * Every frontend's waiting tasks whose workflow no live server can run (or that is no longer
   * configured): reason set, or ended. Tasks no longer found so (gone, or servable) are forgotten.
   */
  async sweep(): Promise<void> {
    // Only what was known when the sweep began may be forgotten: a task marked meanwhile (a submit
    // told no server can take it) was inserted after this sweep's reads and is not among `found`.
    const known = new Set(this.since.keys());
    const found = new Set<string>();
    let complete = true;
    for (const [frontend, db] of this.ctx.controllers) {
      try {
        for (const { waiting, template } of await this.unservableOf(frontend, db)) {
          found.add(waiting.row.id);
          if (template) await this.noServer(waiting, template);
          else await this.end(waiting, `Its workflow "${waiting.row.workflow}" is no longer configured`);
        }
      } catch (error) {
        complete = false;
        this.ctx.logger.warn("dispatcher: cannot look for tasks no server can take", { frontend, error: String(error) });
      }
    }
    if (complete) for (const id of known) if (!found.has(id)) this.since.delete(id);
  }

  private async unservableOf(frontend: Frontend, db: BaseDBController): Promise<Array<{ waiting: WaitingRow; template: WorkflowTemplate | undefined }>> {
    await db.ready();
    const templates = new Map<string, WorkflowTemplate | undefined>();
    for (const name of await db.queue.waitingWorkflows()) {
      const template = this.ctx.workflows.get(frontend, name);
      if (!template || (await this.liveFor(template)).length === 0) templates.set(name, template);
    }
    const rows = await db.queue.waitingOf([...templates.keys()], sweepLimit);
    return rows.map((row) => ({ waiting: { frontend, row }, template: templates.get(row.workflow) }));
  }

  /** The first requirement no live server meets, in words a client can act on. */
  private async whyNone(template: WorkflowTemplate): Promise<string> {
    const live = async (request: Parameters<TaskContext["servers"]["eligibleFor"]>[0]) =>
      (await this.ctx.servers.eligibleFor(request)).filter((id) => this.dispatchable(id)).length > 0;
    const tags = [...template.requiredTags];
    if (!(await live({}))) return "no ComfyUI server is up";
    if (!(await live({ requiredTags: tags }))) return `no server that is up has the tags ${tags.join(", ")} this workflow needs`;
    if (!(await live({ requiredTags: tags, requiredModels: [...template.requiresModels] }))) {
      return `no server that is up has the model files ${[...template.requiresModels].join(", ")} this workflow needs`;
    }
    return "no server that is up has the node classes this workflow needs";
  }
}
