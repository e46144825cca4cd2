import type { WSContext } from "hono/ws";
import type { BaseDBController } from "../controllers/base-db-controller.ts";
import { isFinal } from "../jobs/task-events.ts";
import type { TaskHub } from "../jobs/task-hub.ts";
import { taskKey } from "../jobs/task-key.ts";
import { ClientSender, type SenderLimits } from "./client-sender.ts";
import { finalEventOf } from "./final-event.ts";
import { closeCodes } from "./ws-protocol.ts";

/** One client socket following some of one frontend's tasks. */
export class ProgressSession {
  private readonly sender: ClientSender;
  private readonly subscriptions = new Map<string, () => void>();

  constructor(
    private readonly socket: WSContext,
    private readonly frontend: string,
    private readonly db: BaseDBController,
    private readonly hub: TaskHub,
    private readonly wantsPreviews: boolean,
    limits?: SenderLimits,
  ) {
    this.sender = new ClientSender(socket, limits);
  }

  /**
   * Follows a task. Subscribes before reading the row, so a task that ends in between is not
   * missed; a finished task's final message is sent at once.
   */
  async subscribe(taskId: string, closeIfUnknown: boolean): Promise<void> {
    if (this.subscriptions.has(taskId)) return;
    let finalSent = false;
    const unsubscribe = this.hub.subscribe(taskKey(this.frontend, taskId), {
      event: (event) => {
        if (finalSent) return;
        if (isFinal(event)) {
          finalSent = true;
          this.unsubscribe(taskId);
        }
        this.sender.send(event);
      },
      preview: this.wantsPreviews ? (preview) => this.sender.sendPreview(taskId, preview.format, preview.bytes) : undefined,
    });
    this.subscriptions.set(taskId, unsubscribe);
    const photo = await this.db.getPhoto(taskId).catch(() => undefined);
    if (!photo) {
      this.unsubscribe(taskId);
      this.sender.send({ type: "error", code: "not_found", message: `No ${this.frontend} task with id ${taskId}`, taskId });
      if (closeIfUnknown) this.socket.close(closeCodes.notFound, "unknown task");
      return;
    }
    const final = finalEventOf(photo);
    if (final && !finalSent) {
      finalSent = true;
      this.unsubscribe(taskId);
      this.sender.send(final);
      return;
    }
    if (!finalSent) this.sender.send({ type: "subscribed", taskId, status: photo.status });
  }

  unsubscribe(taskId: string): void {
    this.subscriptions.get(taskId)?.();
    this.subscriptions.delete(taskId);
    this.sender.forget(taskId);
  }

  close(): void {
    for (const taskId of [...this.subscriptions.keys()]) this.unsubscribe(taskId);
  }
}
