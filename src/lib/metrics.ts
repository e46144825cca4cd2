import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Buckets for request durations (seconds): the gateway's own work is milliseconds, uploads longer. */
const requestBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets for a task's wait in line and its run on ComfyUI (seconds): jobs take seconds to minutes. */
const taskBuckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * Every Prometheus metric the gateway exposes, on a registry of its own (one per app, so tests and
 * replicas in one process never share counters). Gauges that mirror live state (servers, sockets)
 * are filled at scrape time by collectors registered with `onCollect`.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly collectors: Array<() => void> = [];

  readonly httpDuration = new Histogram({
    name: "aipack_http_request_duration_seconds",
    help: "HTTP requests by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: requestBuckets,
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: "aipack_refusals_total",
    help: "Requests refused for want of capacity or a dependency (429/503), by error code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly tasksSubmitted = new Counter({
    name: "aipack_tasks_submitted_total",
    help: "Tasks accepted onto a ComfyUI server",
    labelNames: ["frontend", "workflow"] as const,
    registers: [this.registry],
  });
  readonly tasksEnded = new Counter({
    name: "aipack_tasks_ended_total",
    help: "Tasks whose end this replica recorded, by outcome",
    labelNames: ["frontend", "workflow", "outcome"] as const,
    registers: [this.registry],
  });
  readonly taskWait = new Histogram({
    name: "aipack_task_wait_seconds",
    help: "From submit to ComfyUI starting the task",
    labelNames: ["frontend", "workflow"] as const,
    buckets: taskBuckets,
    registers: [this.registry],
  });
  readonly taskRun = new Histogram({
    name: "aipack_task_run_seconds",
    help: "From ComfyUI starting the task to its recorded end",
    labelNames: ["frontend", "workflow", "outcome"] as const,
    buckets: taskBuckets,
    registers: [this.registry],
  });
  readonly tasksLost = new Counter({
    name: "aipack_tasks_failed_server_lost_total",
    help: "Tasks failed because their ComfyUI server went away for good",
    labelNames: ["server"] as const,
    registers: [this.registry],
  });
  readonly reconcilerActions = new Counter({
    name: "aipack_reconciler_actions_total",
    help: "What the background reconciler did to unfinished tasks",
    labelNames: ["action"] as const,
    registers: [this.registry],
  });
  readonly dispatchPasses = new Counter({
    name: "aipack_dispatch_passes_total",
    help: "Dispatch passes run: on changes that can free a server, on submits while one may have room, and on the rescan",
    registers: [this.registry],
  });
  readonly dispatchRowsRead = new Counter({
    name: "aipack_dispatch_waiting_rows_read_total",
    help: "Waiting tasks' rows the dispatcher read to place tasks: it reads the queue's head only while a server has room",
    labelNames: ["frontend"] as const,
    registers: [this.registry],
  });
  readonly serverUp = new Gauge({
    name: "aipack_comfy_server_up",
    help: "1 when the ComfyUI server passes its checks",
    labelNames: ["server"] as const,
    registers: [this.registry],
    collect: () => this.runCollectors(),
  });
  readonly serverQueue = new Gauge({
    name: "aipack_comfy_server_queue",
    help: "Jobs running and pending on the ComfyUI server at its last reading",
    labelNames: ["server"] as const,
    registers: [this.registry],
  });
  readonly serverLatency = new Gauge({
    name: "aipack_comfy_server_latency_seconds",
    help: "Latency of the last successful API check",
    labelNames: ["server"] as const,
    registers: [this.registry],
  });
  readonly serverStateChanges = new Counter({
    name: "aipack_comfy_server_state_changes_total",
    help: "ComfyUI servers going up or down",
    labelNames: ["server", "state"] as const,
    registers: [this.registry],
  });
  readonly streamReconnects = new Counter({
    name: "aipack_comfy_stream_reconnects_total",
    help: "Upstream event streams reopened after a drop",
    labelNames: ["server"] as const,
    registers: [this.registry],
  });
  readonly wsConnections = new Gauge({
    name: "aipack_ws_connections",
    help: "Progress WebSockets open now",
    registers: [this.registry],
  });
  readonly wsMessages = new Counter({
    name: "aipack_ws_messages_relayed_total",
    help: "Messages sent to progress WebSocket clients, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly webhookAttempts = new Counter({
    name: "aipack_webhook_attempts_total",
    help: "Webhook delivery attempts, by outcome (delivered, retry, failed: given up, gone: 410 disabled the endpoint, refused: a destination not allowed, dropped: endpoint disabled)",
    labelNames: ["frontend", "outcome"] as const,
    registers: [this.registry],
  });
  readonly webhookAttemptDuration = new Histogram({
    name: "aipack_webhook_attempt_duration_seconds",
    help: "Time a webhook receiver took to answer (or to time out)",
    labelNames: ["frontend"] as const,
    buckets: requestBuckets,
    registers: [this.registry],
  });
  readonly webhookQueued = new Counter({
    name: "aipack_webhook_events_queued_total",
    help: "Webhook deliveries written to the outbox with a task's change",
    labelNames: ["frontend"] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "aipack_" });
  }

  /** Runs `collect` before every scrape (for gauges that mirror live state). */
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }

  private runCollectors(): void {
    for (const collect of this.collectors) collect();
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
