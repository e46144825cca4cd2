import { randomUUID } from "node:crypto";
import { ComfyClient } from "../comfy/comfy-client.ts";
import { ComfyEventStream } from "../comfy/event-stream.ts";
import { comboChoices } from "../comfy/object-info.ts";
import { checkTimeoutFor, type ComfyPoolOptions, type PoolTimers } from "./pool-options.ts";
import { probeApi, probeReach } from "./probes.ts";
import { pickIndex, type PickRequest } from "./scheduler.ts";
import type { PoolSnapshot } from "./schemas.ts";
import { serverId, serverListSchema } from "./server-list.ts";
import { ServerRecord } from "./server-record.ts";

export { checkTimeoutFor, type ComfyPoolOptions, type PoolEvent, type PoolTimers } from "./pool-options.ts";

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
  private readonly checkTimeoutMs: number;
  private timer: unknown = null;
  private running = false;
  private cursor = -1;

  constructor(private readonly options: ComfyPoolOptions) {
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
    const fetchImpl = options.fetch;
    const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.checkTimeoutMs = options.checkTimeoutMs ?? checkTimeoutFor(requestTimeoutMs);
    this.records = serverListSchema.parse(options.servers).map((entry) => {
      const id = serverId(entry);
      const common = { baseUrl: entry.url, basicAuth: entry.basicAuth, maxViewBytes: options.maxViewBytes, now: this.now, ...(fetchImpl ? { fetch: fetchImpl } : {}) };
      // Every prompt queued through the task client counts as load until a reading includes it.
      const onQueued = (promptId: string, sentAt: number) => record.load.bump({ promptId, sentAt, answeredAt: this.now() });
      const client = new ComfyClient({ ...common, timeoutMs: requestTimeoutMs, onQueued });
      this.clients.set(id, client);
      const record: ServerRecord = new ServerRecord(id, entry, new ComfyClient({ ...common, timeoutMs: this.checkTimeoutMs }), client, options.random);
      return record;
    });
  }

  /**
   * What clients are told a server is called: its configured name, or `comfy-<position>` for an
   * unnamed one (its id is its host:port, which clients never see). Null for no server.
   */
  publicName(id: string): string;
  publicName(id: string | null): string | null;
  publicName(id: string | null): string | null {
    if (id === null) return null;
    const index = this.records.findIndex((r) => r.id === id);
    if (index < 0) return "comfy";
    return this.records[index]!.entry.name ?? `comfy-${index + 1}`;
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
   * for; ties round-robin. Unknown node lists are fetched on need, at most once per backoff
   * step (a failing `/object_info` is not re-read on every submit). Null when none qualifies.
   */
  async pick(request: PickRequest = {}): Promise<PickedServer | null> {
    if ((request.requiredNodes?.length ?? 0) > 0 || (request.requiredModels?.length ?? 0) > 0) {
      const now = this.now();
      await Promise.all(this.records.filter((r) => r.state === "up" && r.nodes.due(now)).map((r) => this.loadNodes(r)));
    }
    const candidates = this.records.map((r) => ({
      id: r.id,
      healthy: r.state === "up",
      tags: r.entry.tags,
      weight: r.entry.weight,
      work: r.load.work,
      nodes: r.nodes.classes,
      choices: r.nodes.choices,
    }));
    const index = pickIndex(candidates, request, this.cursor);
    const record = this.records[index];
    if (record === undefined) return null;
    this.cursor = index;
    return { id: record.id, url: record.entry.url, client: this.clientFor(record.id) };
  }

  /** The task-facing client of a server. */
  clientFor(id: string): ComfyClient {
    const client = this.clients.get(id);
    if (client === undefined) throw new Error(`unknown ComfyUI server "${id}"`);
    return client;
  }

  /**
   * The server's event stream, created and started on first use. Its `status` messages keep the
   * load fresh between checks; on reconnect the node list and capabilities are learned again.
   */
  streamFor(id: string): ComfyEventStream {
    const record = this.record(id);
    let stream = this.streams.get(id);
    if (stream === undefined) {
      stream = new ComfyEventStream({
        // `ws` turns URL credentials into Basic auth on the upgrade.
        baseUrl: withCredentials(record.entry),
        clientId: (this.options.clientId ?? (() => `aipack-${randomUUID()}`))(),
        readQueue: () => this.clientFor(id).getQueue(),
        previewMetadata: async () => (await this.clientFor(id).getCapabilities()).previewMetadata,
        ...(this.options.WebSocketImpl ? { WebSocketImpl: this.options.WebSocketImpl } : {}),
        ...this.options.stream,
      });
      stream.on((event) => {
        if (event.type === "status") record.load.fromStatus(event.data.status.exec_info.queue_remaining, this.now());
        if (event.type === "reconnected") void this.learnServer(record);
        if (event.type === "disconnected") this.options.onEvent?.({ type: "stream-lost", server: id, reason: event.reason });
        if (event.type === "reconnected") this.options.onEvent?.({ type: "stream-back", server: id, downMs: event.downMs });
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
    const reach = await probeReach(record.entry.url, this.checkTimeoutMs, this.now);
    const api = reach.port.ok
      ? await probeApi(record.probeClient, this.now)
      : { check: { ok: false, error: "skipped: port not reachable" }, stats: null, queue: null, latencyMs: null };
    const before = record.state;
    const cameUp = record.record(reach, api, startedAt, this.now(), this.options.downAfter ?? 2);
    if (cameUp) this.options.onEvent?.({ type: "server-up", server: record.id, latencyMs: record.latencyMs });
    if (before !== "down" && record.state === "down") {
      const failedCheck = !reach.host.ok ? "host" : !reach.port.ok ? "port" : "api";
      const error = record.checks[failedCheck].error ?? "check failed";
      this.options.onEvent?.({ type: "server-down", server: record.id, failedCheck, error, consecutiveFailures: record.consecutiveFailures });
    }
    if (cameUp) await this.learnServer(record);
  }

  /** After (re)appearing a server may run another release or other custom nodes: learn both again. */
  private async learnServer(record: ServerRecord): Promise<void> {
    await Promise.all([this.loadNodes(record), record.client.refreshCapabilities().catch(() => undefined)]);
  }

  /** Fetches `/object_info` with the request timeout (it is large); concurrent callers share one fetch. */
  private loadNodes(record: ServerRecord): Promise<void> {
    const nodes = record.nodes;
    nodes.inFlight ??= record.client
      .objectInfo()
      .then(
        (info) => nodes.learned(new Set(Object.keys(info)), comboChoices(info), this.now()),
        (error: unknown) => nodes.failed(error instanceof Error ? error.message : String(error), this.now()),
      )
      .finally(() => {
        nodes.inFlight = null;
      });
    return nodes.inFlight;
  }
}

/** The server's URL with its Basic credentials put back, for the event stream's upgrade only. */
function withCredentials(entry: { url: string; basicAuth?: string }): string {
  if (!entry.basicAuth) return entry.url;
  const text = Buffer.from(entry.basicAuth, "base64").toString();
  const at = text.indexOf(":");
  const url = new URL(entry.url);
  url.username = encodeURIComponent(text.slice(0, at));
  url.password = encodeURIComponent(text.slice(at + 1));
  return url.toString().replace(/\/+$/, "");
}
