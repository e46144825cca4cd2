import { ComfyClient } from "../comfy/comfy-client.ts";
import type { ApiResult, ReachResult } from "./probes.ts";
import type { CheckResult, ServerState, ServerStatus } from "./schemas.ts";
import type { ServerEntry } from "./server-list.ts";

const notRun: CheckResult = { ok: false, error: "not checked yet" };

/**
 * One server's health state machine and what the last checks learned about it:
 * `down` after `downAfter` consecutive failures, `up` again after one success.
 */
export class ServerRecord {
  state: ServerState = "unknown";
  consecutiveFailures = 0;
  checkedAt: number | null = null;
  checks = { host: notRun, port: notRun, api: notRun };
  latencyMs: number | null = null;
  queue: { running: number; pending: number } | null = null;
  comfyuiVersion: string | null = null;
  device: ServerStatus["device"] = null;
  features: ServerStatus["features"] = null;
  /** Node classes from /object_info; null until fetched. */
  nodes: Set<string> | null = null;
  /** The check running now, shared by concurrent refresh calls. */
  inFlight: Promise<void> | null = null;
  /** When this gateway submitted jobs the last queue reading could not include yet. */
  private bumps: number[] = [];

  constructor(
    readonly id: string,
    readonly entry: ServerEntry,
    /** Client with the short health-check timeout. */
    readonly probeClient: ComfyClient,
  ) {}

  /** Jobs submitted here since the last queue reading. */
  get localPending(): number {
    return this.bumps.length;
  }

  /** running + pending + local bumps: the scheduler's measure of load. */
  get work(): number {
    return (this.queue?.running ?? 0) + (this.queue?.pending ?? 0) + this.bumps.length;
  }

  /** Counts a job submitted at `at`. */
  bump(at: number): void {
    this.bumps.push(at);
  }

  /**
   * Records one finished check. Returns true when the server just became `up` (so its node
   * list and features should be refetched).
   */
  record(reach: ReachResult, api: ApiResult & { latencyMs: number | null }, startedAt: number, finishedAt: number, downAfter: number): boolean {
    this.checks = { host: reach.host, port: reach.port, api: api.check };
    this.checkedAt = finishedAt;
    if (!api.check.ok || api.stats === null || api.queue === null) {
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= downAfter) this.state = "down";
      this.latencyMs = null;
      return false;
    }
    const cameUp = this.state !== "up";
    this.state = "up";
    this.consecutiveFailures = 0;
    this.latencyMs = api.latencyMs;
    this.queue = { running: api.queue.running.length, pending: api.queue.pending.length };
    // Submissions made before this check started are included in the queue it read.
    this.bumps = this.bumps.filter((t) => t >= startedAt);
    this.comfyuiVersion = api.stats.system.comfyui_version ?? null;
    const gpu = api.stats.devices[0];
    this.device = gpu === undefined ? null : { name: gpu.name, vramFree: gpu.vram_free ?? null, vramTotal: gpu.vram_total ?? null };
    return cameUp;
  }

  /** The public status. */
  status(): ServerStatus {
    return {
      id: this.id,
      url: this.entry.url,
      weight: this.entry.weight,
      tags: [...this.entry.tags],
      state: this.state,
      healthy: this.state === "up",
      consecutiveFailures: this.consecutiveFailures,
      checkedAt: this.checkedAt,
      checks: { ...this.checks },
      latencyMs: this.latencyMs,
      queue: this.queue === null ? null : { ...this.queue },
      localPending: this.localPending,
      comfyuiVersion: this.comfyuiVersion,
      device: this.device === null ? null : { ...this.device },
      features: this.features === null ? null : { ...this.features },
    };
  }
}
