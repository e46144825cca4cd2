import { and, asc, desc, eq, inArray, isNull, lt, lte, notInArray, or } from "drizzle-orm";
import { affectedRows } from "../db/affected-rows.ts";
import type { BuiltQuery, Database } from "../db/database.ts";
import type { Clock } from "../lib/clock.ts";
import { coalescedReader, type CoalescedReader } from "../lib/coalesced-reader.ts";
import { randomId } from "../lib/ids.ts";
import type { WebhookDeliveryRow, WebhookEndpointRow, WebhookEventType } from "../schema/index.ts";

/** An event for the outbox: its type and the exact body every attempt sends. */
export interface OutboxEvent {
  type: WebhookEventType;
  payload: Record<string, unknown>;
}

export interface NewEndpoint {
  url: string;
  events: WebhookEventType[];
  secret: string;
  description?: string | null;
}

/** What an attempt's end writes on its delivery row. */
export type AttemptOutcome = Pick<WebhookDeliveryRow, "status" | "attempts" | "nextAttemptAt" | "lastStatusCode" | "lastError" | "deliveredAt">;

/**
 * How long this replica reuses a frontend's list of enabled endpoints before reading it again: the
 * bound on how late another replica's change (a new, edited, disabled or deleted endpoint) is seen
 * by the task endings here. Changes made through this controller are seen at once.
 */
export const endpointsCacheMs = 5_000;

/** A frontend's webhook endpoints and its outbox of deliveries, in its own database. SQL only. */
export class WebhooksDBController {
  /**
   * The enabled endpoints, read at most once per `endpointsCacheMs` and shared by concurrent
   * readers: every task start and end asks for them, and a burst of endings costs one query.
   */
  private readonly enabled: CoalescedReader<WebhookEndpointRow[]>;

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {
    this.enabled = coalescedReader(() => this.db.select().from(this.endpoints).where(eq(this.endpoints.status, "enabled")), {
      maxAgeMs: endpointsCacheMs,
      now: () => this.clock.now().getTime(),
    });
  }

  private get endpoints() {
    return this.database.tables.webhookEndpoints;
  }

  private get deliveries() {
    return this.database.tables.webhookDeliveries;
  }

  private get db() {
    return this.database.db;
  }

  async addEndpoint(input: NewEndpoint): Promise<WebhookEndpointRow> {
    const now = this.clock.now();
    const row: WebhookEndpointRow = {
      id: randomId(),
      url: input.url,
      events: input.events,
      secret: input.secret,
      description: input.description ?? null,
      status: "enabled",
      disabledReason: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.changingEndpoints(() => this.db.insert(this.endpoints).values(row));
    return row;
  }

  async getEndpoint(id: string): Promise<WebhookEndpointRow | undefined> {
    const [row] = await this.db.select().from(this.endpoints).where(eq(this.endpoints.id, id)).limit(1);
    return row;
  }

  /** Every endpoint, oldest first. */
  listEndpoints(): Promise<WebhookEndpointRow[]> {
    return this.db.select().from(this.endpoints).orderBy(asc(this.endpoints.createdAt), asc(this.endpoints.id));
  }

  /** Enables or disables an endpoint (saying why when disabled). */
  async setEndpointStatus(id: string, enabled: boolean, reason: string | null): Promise<void> {
    await this.changingEndpoints(() =>
      this.db
        .update(this.endpoints)
        .set({ status: enabled ? "enabled" : "disabled", disabledReason: enabled ? null : reason, updatedAt: this.clock.now() })
        .where(eq(this.endpoints.id, id)),
    );
  }

  async setEndpointEvents(id: string, events: WebhookEventType[]): Promise<void> {
    await this.changingEndpoints(() => this.db.update(this.endpoints).set({ events, updatedAt: this.clock.now() }).where(eq(this.endpoints.id, id)));
  }

  /** Deletes an endpoint and its deliveries; false when there was none. */
  async deleteEndpoint(id: string): Promise<boolean> {
    const result: unknown = await this.changingEndpoints(() => this.db.delete(this.endpoints).where(eq(this.endpoints.id, id)));
    await this.db.delete(this.deliveries).where(eq(this.deliveries.endpointId, id));
    return affectedRows(result) > 0;
  }

  /**
   * The enabled endpoints that asked for `type` (a frontend has a handful: filtered here), as of
   * at most `endpointsCacheMs` ago, or of this replica's last change to them, whichever is later.
   */
  async subscribedTo(type: WebhookEventType): Promise<WebhookEndpointRow[]> {
    const rows = await this.enabled.read();
    return rows.filter((row) => row.events.includes(type));
  }

  /** Runs a write to the endpoints table, then forgets the cached list (also when the write failed: it may have landed). */
  private async changingEndpoints<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.enabled.invalidate();
    }
  }

  /** The INSERTs of one outbox row per endpoint, to run in the transaction of the change they tell about. */
  outboxInserts(endpoints: readonly WebhookEndpointRow[], taskId: string, event: OutboxEvent, now: Date): BuiltQuery[] {
    return endpoints.map((endpoint) => {
      const row: WebhookDeliveryRow = {
        // Standard Webhooks' message id: the same on every attempt of this delivery.
        id: `msg_${randomId()}`,
        endpointId: endpoint.id,
        eventType: event.type,
        taskId,
        payload: event.payload,
        status: "pending",
        attempts: 0,
        nextAttemptAt: now,
        leaseOwner: null,
        leaseUntil: null,
        lastStatusCode: null,
        lastError: null,
        createdAt: now,
        lastAttemptAt: null,
        deliveredAt: null,
      };
      return this.db.insert(this.deliveries).values(row).toSQL();
    });
  }

  /** An endpoint's latest deliveries, newest first. */
  listDeliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRow[]> {
    return this.db
      .select()
      .from(this.deliveries)
      .where(eq(this.deliveries.endpointId, endpointId))
      .orderBy(desc(this.deliveries.createdAt), desc(this.deliveries.id))
      .limit(limit);
  }

  /** Pending deliveries due now, not leased by a live sender and not to `skipEndpoints`, earliest first. */
  listDue(now: Date, limit: number, skipEndpoints: readonly string[] = []): Promise<WebhookDeliveryRow[]> {
    const conditions = [eq(this.deliveries.status, "pending"), lte(this.deliveries.nextAttemptAt, now), or(isNull(this.deliveries.leaseUntil), lt(this.deliveries.leaseUntil, now))];
    if (skipEndpoints.length > 0) conditions.push(notInArray(this.deliveries.endpointId, [...skipEndpoints]));
    return this.db
      .select()
      .from(this.deliveries)
      .where(and(...conditions))
      .orderBy(asc(this.deliveries.nextAttemptAt), asc(this.deliveries.id))
      .limit(limit);
  }

  /** When the next pending delivery falls due, or null when none waits. */
  async nextDueAt(): Promise<Date | null> {
    const [row] = await this.db
      .select({ at: this.deliveries.nextAttemptAt })
      .from(this.deliveries)
      .where(eq(this.deliveries.status, "pending"))
      .orderBy(asc(this.deliveries.nextAttemptAt))
      .limit(1);
    return row?.at ?? null;
  }

  /**
   * Takes a delivery for one attempt until `until`: a conditional update, so of several replicas
   * that saw it due, one sends it. False when another took it, or it is no longer pending.
   */
  async claim(row: WebhookDeliveryRow, owner: string, now: Date, until: Date): Promise<boolean> {
    const result: unknown = await this.db
      .update(this.deliveries)
      .set({ leaseOwner: owner, leaseUntil: until })
      .where(
        and(
          eq(this.deliveries.id, row.id),
          eq(this.deliveries.status, "pending"),
          eq(this.deliveries.attempts, row.attempts),
          or(isNull(this.deliveries.leaseUntil), lt(this.deliveries.leaseUntil, now)),
        ),
      );
    return affectedRows(result) > 0;
  }

  /** Lets go of the leases `owner` held: a restarted replica takes back what its previous run left mid-attempt. */
  async releaseLeases(owner: string): Promise<void> {
    await this.db
      .update(this.deliveries)
      .set({ leaseOwner: null, leaseUntil: null })
      .where(and(eq(this.deliveries.leaseOwner, owner), eq(this.deliveries.status, "pending")));
  }

  /** Writes an attempt's end, only while `owner` still holds the lease. */
  async recordAttempt(id: string, owner: string, outcome: AttemptOutcome): Promise<void> {
    await this.db
      .update(this.deliveries)
      .set({ ...outcome, lastAttemptAt: this.clock.now(), leaseOwner: null, leaseUntil: null })
      .where(and(eq(this.deliveries.id, id), eq(this.deliveries.leaseOwner, owner)));
  }

  /** Gives up every pending delivery of an endpoint (it was disabled or answered 410). */
  async failPending(endpointId: string, reason: string): Promise<void> {
    await this.db
      .update(this.deliveries)
      .set({ status: "failed", lastError: reason, leaseOwner: null, leaseUntil: null })
      .where(and(eq(this.deliveries.endpointId, endpointId), inArray(this.deliveries.status, ["pending"])));
  }
}
