import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { AttemptOutcome } from "../controllers/webhooks-db-controller.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { WebhookDeliveryRow, WebhookEndpointRow } from "../schema/index.ts";
import { sendSigned, type AttemptResult } from "./signed-post.ts";
import { retryDelayMs, type RetrySchedule } from "./retry-schedule.ts";

/** What the task life cycle tells the sender: outbox rows were just written for `frontend`. */
export interface OutboxSignal {
  written(frontend: Frontend, count: number): void;
}

export interface WebhookSenderOptions extends RetrySchedule {
  /** This replica's id: the owner of the deliveries it leases. */
  gatewayId: string;
  /** Bound of one attempt, connect to status line (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Whether a resolved address may be sent to (destination.ts addressGuard). */
  allowed: (address: string) => boolean;
  /** How often the outbox is read without a wake (retries fall due, other replicas' rows). */
  pollIntervalMs?: number;
  /** Endpoints sent to at once, per frontend; each endpoint gets one attempt at a time. */
  maxLanes?: number;
  random?: () => number;
}

interface FrontendState {
  /** Endpoints with an attempt under way: one lane each, so a slow receiver holds only its own. */
  busy: Set<string>;
  scanning: boolean;
  again: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Works off every frontend's webhook outbox: leases a due delivery (a conditional update, so
 * replicas do not send the same attempt together), signs it (Standard Webhooks, the same
 * `webhook-id` every time), POSTs it and records the outcome: 2xx delivered, 410 disables the
 * endpoint, anything else (timeouts included) is retried with backoff until `retryForMs`.
 */
export class WebhookSender implements OutboxSignal {
  private readonly states = new Map<Frontend, FrontendState>();
  private readonly inFlight = new Set<AbortController>();
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private closed = false;

  constructor(
    private readonly controllers: ReadonlyMap<Frontend, BaseDBController>,
    private readonly deps: { clock: Clock; logger: Logger; metrics: Metrics },
    private readonly options: WebhookSenderOptions,
  ) {
    // Long enough for an attempt to end; a replica that dies mid-attempt frees it after this.
    this.leaseMs = options.timeoutMs * 2 + 5_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    for (const frontend of controllers.keys()) this.states.set(frontend, { busy: new Set(), scanning: false, again: false });
  }

  /** Takes back what this replica's previous run left mid-attempt, then sends everything due. */
  async start(): Promise<void> {
    await Promise.all(
      [...this.controllers].map(async ([frontend, controller]) => {
        try {
          await controller.ready();
          await controller.webhooks.releaseLeases(this.options.gatewayId);
        } catch (error) {
          this.deps.logger.warn("webhook outbox not readable yet; retried", { frontend, error: String(error) });
        }
        await this.scan(frontend);
      }),
    );
  }

  written(frontend: Frontend, count: number): void {
    this.deps.metrics.webhookQueued.inc({ frontend }, count);
    void this.scan(frontend);
  }

  close(): void {
    this.closed = true;
    for (const state of this.states.values()) clearTimeout(state.timer);
    for (const controller of this.inFlight) controller.abort();
  }

  /** Leases and starts what is due, one delivery per idle endpoint; then sleeps until the next is due. */
  private async scan(frontend: Frontend): Promise<void> {
    const state = this.states.get(frontend);
    const controller = this.controllers.get(frontend);
    if (!state || !controller || this.closed) return;
    if (state.scanning) {
      state.again = true;
      return;
    }
    state.scanning = true;
    let nextInMs = this.pollIntervalMs;
    try {
      do {
        state.again = false;
        const now = this.deps.clock.now();
        const due = await controller.webhooks.listDue(now, 100, [...state.busy]);
        for (const row of due) {
          if (this.closed || state.busy.size >= (this.options.maxLanes ?? 32)) break;
          if (state.busy.has(row.endpointId)) continue;
          if (!(await controller.webhooks.claim(row, this.options.gatewayId, now, new Date(now.getTime() + this.leaseMs)))) continue;
          state.busy.add(row.endpointId);
          void this.attempt(frontend, controller, row).finally(() => {
            state.busy.delete(row.endpointId);
            void this.scan(frontend);
          });
        }
      } while (state.again && !this.closed);
      const next = await controller.webhooks.nextDueAt();
      if (next) nextInMs = Math.min(nextInMs, Math.max(0, next.getTime() - this.deps.clock.now().getTime()));
    } catch (error) {
      this.deps.logger.warn("could not read the webhook outbox; retried", { frontend, error: String(error) });
    } finally {
      state.scanning = false;
    }
    if (this.closed) return;
    clearTimeout(state.timer);
    // A due row held back by a busy lane is picked up when that lane frees (the finally above).
    state.timer = setTimeout(() => void this.scan(frontend), Math.max(nextInMs, 10));
    state.timer.unref();
  }

  private async attempt(frontend: Frontend, controller: BaseDBController, row: WebhookDeliveryRow): Promise<void> {
    const webhooks = controller.webhooks;
    const fields = { frontend, endpointId: row.endpointId, deliveryId: row.id, event: row.eventType };
    try {
      const endpoint = await webhooks.getEndpoint(row.endpointId);
      if (!endpoint || endpoint.status !== "enabled") {
        await webhooks.recordAttempt(row.id, this.options.gatewayId, this.outcome(row, "failed", null, "endpoint disabled"));
        this.deps.metrics.webhookAttempts.inc({ frontend, outcome: "dropped" });
        return;
      }
      const result = await this.send(frontend, endpoint, row);
      const { status } = result;
      if (this.closed && status === null) return;
      if (status !== null && status >= 200 && status < 300) {
        await webhooks.recordAttempt(row.id, this.options.gatewayId, { ...this.outcome(row, "delivered", status, null), deliveredAt: this.deps.clock.now() });
        this.deps.metrics.webhookAttempts.inc({ frontend, outcome: "delivered" });
        this.deps.logger.info("webhook delivered", { ...fields, attempts: row.attempts + 1, status });
        return;
      }
      if (status === 410) {
        // Its own lane is busy until this returns, so nothing else goes to it meanwhile.
        await webhooks.recordAttempt(row.id, this.options.gatewayId, this.outcome(row, "failed", status, "410 Gone: endpoint disabled"));
        await webhooks.setEndpointStatus(endpoint.id, false, "410 Gone");
        await webhooks.failPending(endpoint.id, "endpoint disabled (410 Gone)");
        this.deps.metrics.webhookAttempts.inc({ frontend, outcome: "gone" });
        this.deps.logger.warn("webhook endpoint answered 410 and is disabled", fields);
        return;
      }
      await this.retryOrGiveUp(frontend, controller, row, result);
    } catch (error) {
      // The database went away mid-attempt: the lease lapses and the attempt is made again.
      this.deps.logger.warn("could not record a webhook attempt", { ...fields, error: String(error) });
    }
  }

  private async retryOrGiveUp(frontend: Frontend, controller: BaseDBController, row: WebhookDeliveryRow, result: AttemptResult): Promise<void> {
    const { status } = result;
    const reason = result.status === null ? result.error : `HTTP ${result.status}`;
    const attempts = row.attempts + 1;
    const delay = retryDelayMs(this.options, attempts, this.options.random);
    const now = this.deps.clock.now().getTime();
    const givingUp = now + delay - row.createdAt.getTime() > this.options.retryForMs;
    const outcome: AttemptOutcome = {
      status: givingUp ? "failed" : "pending",
      attempts,
      nextAttemptAt: new Date(now + delay),
      lastStatusCode: status,
      lastError: reason.slice(0, 64),
      deliveredAt: null,
    };
    await controller.webhooks.recordAttempt(row.id, this.options.gatewayId, outcome);
    const refused = result.status === null && result.refused;
    this.deps.metrics.webhookAttempts.inc({ frontend, outcome: givingUp ? "failed" : refused ? "refused" : "retry" });
    this.deps.logger.warn(givingUp ? "webhook given up" : "webhook attempt failed; retried", {
      frontend, endpointId: row.endpointId, deliveryId: row.id, attempts, status, reason: reason.slice(0, 64), ...(givingUp ? {} : { retryInMs: delay }),
    });
  }

  private outcome(row: WebhookDeliveryRow, status: "delivered" | "failed", code: number | null, error: string | null): AttemptOutcome {
    return { status, attempts: row.attempts + 1, nextAttemptAt: row.nextAttemptAt, lastStatusCode: code, lastError: error, deliveredAt: null };
  }

  /** One attempt, abortable by close(), timed for the metrics. */
  private async send(frontend: Frontend, endpoint: WebhookEndpointRow, row: WebhookDeliveryRow): Promise<AttemptResult> {
    const abort = new AbortController();
    this.inFlight.add(abort);
    const started = performance.now();
    try {
      const { timeoutMs, allowed } = this.options;
      return await sendSigned(endpoint, row, { at: this.deps.clock.now(), timeoutMs, allowed, signal: abort.signal });
    } finally {
      this.inFlight.delete(abort);
      this.deps.metrics.webhookAttemptDuration.observe({ frontend }, (performance.now() - started) / 1000);
    }
  }
}
