import type { WSContext } from "hono/ws";
import type { BaseDBController } from "../controllers/base-db-controller.ts";
import { isFinal, type TaskEvent } from "./task-events.ts";
import type { TaskHub } from "./task-hub.ts";
import { taskKey } from "./task-key.ts";
import type { Logger } from "../lib/logger.ts";
import { ClientSender, type SenderLimits } from "./client-sender.ts";
import { finalEventOf } from "./final-event.ts";
import { clientMessageSchema, closeCodes, closeReasons, maxBadMessages, maxSubscriptionsPerSocket } from "./ws-protocol.ts";

/** The one query a session makes; narrow so tests can hand in a controllable reader. */
export type TaskReader = Pick<BaseDBController, "getTask">;

/**
 * One follow of one task. Its identity matters: after the row read, the session checks that the
 * stored subscription is still this one, because the client may have unsubscribed (and subscribed
 * again) while the read was pending, and a stale call must not end or answer for the new one.
 */
interface Subscription {
  stop: () => void;
  /**
   * False until the row read shows the task is the session owner's: events the hub delivers
   * before that (its replay of the latest progress, say) are held, so a user never hears a
   * single event of someone else's task.
   */
  allowed: boolean;
  held: TaskEvent[];
}

/** Events held per subscription while its row is read; the latest ones are what matter. */
const maxHeld = 50;

const usage = 'Send {"type":"subscribe"|"unsubscribe","taskId":"..."}';

/** One client socket following some of one frontend's tasks. */
export class ProgressSession {
  private readonly sender: ClientSender;
  private readonly subscriptions = new Map<string, Subscription>();
  private badMessages = 0;

  constructor(
    private readonly socket: WSContext,
    private readonly frontend: string,
    private readonly db: TaskReader,
    private readonly hub: TaskHub,
    private readonly wantsPreviews: boolean,
    private readonly logger: Logger,
    limits?: SenderLimits,
    onSent?: (kind: "event" | "preview") => void,
    /** With a user token: the only user whose tasks this socket may follow; others are "not found". */
    private readonly owner?: string,
  ) {
    this.sender = new ClientSender(socket, limits, onSent);
  }

  /** Tasks followed right now (including those whose row is still being read). */
  get size(): number {
    return this.subscriptions.size;
  }

  /** A text frame from the client: subscribe / unsubscribe, anything else is a bad message. */
  receive(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const message = clientMessageSchema.safeParse(json);
    if (!message.success) return this.refuse(usage);
    const { taskId } = message.data;
    if (message.data.type === "unsubscribe") return this.unsubscribe(taskId);
    if (!this.subscriptions.has(taskId) && this.subscriptions.size >= maxSubscriptionsPerSocket) {
      return this.refuse(`At most ${maxSubscriptionsPerSocket} tasks per socket; unsubscribe from one first`, taskId);
    }
    void this.subscribe(taskId, false);
  }

  /**
   * A bad message (also one over the message rate, or a subscribe to a task that does not exist):
   * errors go through the sender so a flood meets the same bounds as progress; the 5th closes.
   */
  refuse(message: string, taskId?: string): void {
    this.badMessages++;
    this.sender.send({ type: "error", code: "bad_message", message, taskId });
    if (this.badMessages >= maxBadMessages) this.socket.close(closeCodes.badRequest, closeReasons.badRequest);
  }

  /**
   * Follows a task. Subscribes before reading the row, so a task that ends in between is not
   * missed; a finished task's final message is sent at once.
   */
  async subscribe(taskId: string, closeIfUnknown: boolean): Promise<void> {
    if (this.subscriptions.has(taskId)) return;
    const subscription: Subscription = { stop: () => undefined, allowed: this.owner === undefined, held: [] };
    // Stored before the hub replays the latest progress, so the replay counts as current.
    this.subscriptions.set(taskId, subscription);
    const stop = this.hub.subscribe(taskKey(this.frontend, taskId), {
      event: (event) => {
        if (!this.isCurrent(taskId, subscription)) return;
        if (!subscription.allowed) {
          subscription.held.push(event);
          if (subscription.held.length > maxHeld) subscription.held.shift();
          return;
        }
        this.deliver(taskId, subscription, event);
      },
      preview: this.wantsPreviews
        ? (preview) => {
            if (this.isCurrent(taskId, subscription) && subscription.allowed) this.sender.sendPreview(taskId, preview.format, preview.bytes);
          }
        : undefined,
    });
    subscription.stop = stop;
    if (!this.isCurrent(taskId, subscription)) return stop();

    const read = await this.db.getTask(taskId).then(
      (task) => ({ ok: true as const, task }),
      (error: unknown) => {
        this.logger.warn("progress socket: task lookup failed", { frontend: this.frontend, taskId, error: String(error) });
        return { ok: false as const };
      },
    );
    // Unsubscribed meanwhile, or the final message already came through the hub.
    if (!this.isCurrent(taskId, subscription)) return;
    if (!read.ok) {
      // Not "not found": the task may well exist. 1011 tells the client to retry later.
      this.end(taskId, subscription);
      this.sender.send({ type: "error", code: "unavailable", message: `The ${this.frontend} database is unavailable; try again later`, taskId });
      this.socket.close(closeCodes.unavailable, closeReasons.unavailable);
      return;
    }
    if (!read.task || (this.owner !== undefined && read.task.userId !== this.owner)) {
      this.end(taskId, subscription);
      if (closeIfUnknown) {
        this.sender.send({ type: "error", code: "not_found", message: `No ${this.frontend} task with id ${taskId}`, taskId });
        this.socket.close(closeCodes.notFound, closeReasons.notFound);
        return;
      }
      // Guessing ids costs a database read each: it counts as a bad message, like any other.
      this.badMessages++;
      this.sender.send({ type: "error", code: "not_found", message: `No ${this.frontend} task with id ${taskId}`, taskId });
      if (this.badMessages >= maxBadMessages) this.socket.close(closeCodes.badRequest, closeReasons.badRequest);
      return;
    }
    if (!subscription.allowed) {
      subscription.allowed = true;
      for (const event of subscription.held.splice(0)) {
        if (!this.isCurrent(taskId, subscription)) return;
        this.deliver(taskId, subscription, event);
      }
      if (!this.isCurrent(taskId, subscription)) return;
    }
    const final = finalEventOf(read.task);
    if (final) {
      this.end(taskId, subscription);
      this.sender.send(final);
      return;
    }
    this.sender.send({ type: "subscribed", taskId, status: read.task.status });
  }

  private deliver(taskId: string, subscription: Subscription, event: TaskEvent): void {
    if (isFinal(event)) this.end(taskId, subscription);
    this.sender.send(event);
  }

  private isCurrent(taskId: string, subscription: Subscription): boolean {
    return this.subscriptions.get(taskId) === subscription;
  }

  private end(taskId: string, subscription: Subscription): void {
    if (!this.isCurrent(taskId, subscription)) return;
    subscription.stop();
    this.subscriptions.delete(taskId);
    this.sender.forget(taskId);
  }

  unsubscribe(taskId: string): void {
    const subscription = this.subscriptions.get(taskId);
    if (subscription) this.end(taskId, subscription);
  }

  close(): void {
    for (const taskId of [...this.subscriptions.keys()]) this.unsubscribe(taskId);
  }
}
