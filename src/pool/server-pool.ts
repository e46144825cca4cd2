import { randomUUID } from "node:crypto";
import { ComfyClient } from "../comfy/comfy-client.ts";
import { ComfyEventStream } from "../comfy/event-stream.ts";
import type { WebSocketConstructor } from "../comfy/websocket-impl.ts";
import { probeApi, probeReach } from "./probes.ts";
import { pickIndex, type PickRequest } from "./scheduler.ts";
import type { PoolSnapshot } from "./schemas.ts";
import { serverId, serverListSchema, type ServerEntryInput } from "./server-list.ts";
import { ServerRecord } from "./server-record.ts";

/** Timer functions, injectable so tests can drive the check loop. */
export interface PoolTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Pool configuration; everything but `servers` has a default. */
export interface ComfyPoolOptions {
  servers: ServerEntryInput[];
  /** Timeout of each health probe (DNS, TCP, API); default 3 s. */
  checkTimeoutMs?: number;
  /** Timeout of the job-facing clients from `clientFor`; default 10 s. */
  requestTimeoutMs?: number;
  /** Health-check period; default 15 s, spread by ±`jitterRatio` (default 0.2). */
  intervalMs?: number;
  jitterRatio?: number;
  /** Consecutive failed checks before a server is `down`; default 2. */
  downAfter?: number;
  /** The gateway's WebSocket client id per server; default `aipack-<uuid>`. */
  clientId?: () => string;
  now?: () => number;
  random?: () => number;
  timers?: PoolTimers;
  fetch?: typeof fetch;
  WebSocketImpl?: WebSocketConstructor;
  stream?: { minBackoffMs?: number; maxBackoffMs?: number };
}

/** The server `pick` chose. */
export interface PickedServer {
  id: string;
  url: string;
  client: ComfyClient;
}

/**
 * The ComfyUI servers: health checks on an interval and on demand, the least-loaded pick, one
 * client and one lazily opened event stream per server.
 */
export class ComfyPool {
  private readonly records: ServerRecord[];
  private readonly clients = new Map<string, ComfyClient>();
  private readonly streams = new Map<string, ComfyEventStream>();
  private readonly now: () => number;
  private readonly timers: PoolTimers;
  private timer: unknown = null;
  private running = false;
  private cursor = -1;

  constructor(private readonly options: ComfyPoolOptions) {
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
    const fetchImpl = options.fetch;
    this.records = serverListSchema.parse(options.servers).map((entry) => {
      const id = serverId(entry);
      const client = (timeoutMs: number) => new ComfyClient({ baseUrl: entry.url, timeoutMs, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
      this.clients.set(id, client(options.requestTimeoutMs ?? 10_000));
      return new ServerRecord(id, entry, client(options.checkTimeoutMs ?? 3_000));
    });
  }

  /** Server ids in configuration order. */
  ids(): string[] {
    return this.records.map((r) => r.id);
  }

  /** Checks now, then on the interval with jitter, until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      void this.refresh().finally(() => {
        if (!this.running) return;
        const base = this.options.intervalMs ?? 15_000;
        const jitter = this.options.jitterRatio ?? 0.2;
        const delay = base * (1 + jitter * (2 * (this.options.random ?? Math.random)() - 1));
        this.timer = this.timers.setTimeout(tick, delay);
      });
    };
    tick();
  }

  /** Stops the interval checks (a check in flight finishes on its own). */
  stop(): void {
    this.running = false;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Stops checks and closes every event stream. */
  close(): void {
    this.stop();
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
  }

  /** Checks every server (or one) now; concurrent calls share the check in flight per server. */
  async refresh(id?: string): Promise<PoolSnapshot> {
    const targets = id === undefined ? this.records : [this.record(id)];
    await Promise.all(targets.map((r) => this.check(r)));
    return this.snapshot();
  }

  /** Every server's status and how many are available. */
  snapshot(): PoolSnapshot {
    const servers = this.records.map((r) => r.status());
    return { servers, available: servers.filter((s) => s.healthy).length, total: servers.length };
  }

  /**
   * The healthy server with the least work (per weight) that has the tags and node classes asked
   * for; ties round-robin. Node lists are fetched on first need. Null when none qualifies.
   */
  async pick(request: PickRequest = {}): Promise<PickedServer | null> {
    if (request.requiredNodes !== undefined && request.requiredNodes.length > 0) {
      await Promise.all(this.records.filter((r) => r.state === "up" && r.nodes === null).map((r) => this.loadNodes(r)));
    }
    const candidates = this.records.map((r) => ({ id: r.id, healthy: r.state === "up", tags: r.entry.tags, weight: r.entry.weight, work: r.work, nodes: r.nodes }));
    const index = pickIndex(candidates, request, this.cursor);
    const record = this.records[index];
    if (record === undefined) return null;
    this.cursor = index;
    return { id: record.id, url: record.entry.url, client: this.clientFor(record.id) };
  }

  /** Counts a job just submitted to `id` until the next queue reading includes it. */
  noteSubmitted(id: string): void {
    this.record(id).bump(this.now());
  }

  /** The job-facing client of a server. */
  clientFor(id: string): ComfyClient {
    const client = this.clients.get(id);
    if (client === undefined) throw new Error(`unknown ComfyUI server "${id}"`);
    return client;
  }

  /** The server's event stream, created and started on first use. Node lists are refreshed on reconnect. */
  streamFor(id: string): ComfyEventStream {
    const record = this.record(id);
    let stream = this.streams.get(id);
    if (stream === undefined) {
      stream = new ComfyEventStream({
        baseUrl: record.entry.url,
        clientId: (this.options.clientId ?? (() => `aipack-${randomUUID()}`))(),
        ...(this.options.WebSocketImpl ? { WebSocketImpl: this.options.WebSocketImpl } : {}),
        ...this.options.stream,
      });
      stream.on((event) => {
        if (event.type === "reconnected") void this.loadNodes(record);
      });
      this.streams.set(id, stream);
      stream.start();
    }
    return stream;
  }

  private record(id: string): ServerRecord {
    const record = this.records.find((r) => r.id === id);
    if (record === undefined) throw new Error(`unknown ComfyUI server "${id}"`);
    return record;
  }

  private check(record: ServerRecord): Promise<void> {
    record.inFlight ??= this.runCheck(record).finally(() => {
      record.inFlight = null;
    });
    return record.inFlight;
  }

  private async runCheck(record: ServerRecord): Promise<void> {
    const startedAt = this.now();
    const timeoutMs = this.options.checkTimeoutMs ?? 3_000;
    const reach = await probeReach(record.entry.url, timeoutMs, this.now);
    const api = reach.port.ok
      ? await probeApi(record.probeClient, this.now)
      : { check: { ok: false, error: "skipped: port not reachable" }, stats: null, queue: null, latencyMs: null };
    const cameUp = record.record(reach, api, startedAt, this.now(), this.options.downAfter ?? 2);
    if (cameUp) await Promise.all([this.loadNodes(record), this.loadFeatures(record)]);
  }

  private async loadNodes(record: ServerRecord): Promise<void> {
    try {
      record.nodes = new Set(Object.keys(await record.probeClient.objectInfo()));
    } catch {
      // Keep the previous list; an unknown list only excludes the server from node-constrained picks.
    }
  }

  private async loadFeatures(record: ServerRecord): Promise<void> {
    try {
      const supported = (await record.probeClient.features()) !== null;
      record.features = { clientPromptId: supported, progressState: supported };
    } catch {
      record.features = null;
    }
  }
}
