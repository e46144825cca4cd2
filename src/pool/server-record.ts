import { ComfyClient } from "../comfy/comfy-client.ts";
import type { ApiResult, ReachResult } from "./probes.ts";
import type { CheckResult, ServerState, ServerStatus } from "./schemas.ts";
import type { ServerEntry } from "./server-list.ts";
import { NodeList } from "./node-list.ts";
import { ServerLoad } from "./server-load.ts";

const notRun: CheckResult = { ok: false, error: "not checked yet" };

/**
 * One server's health state machine and what the last checks learned about it:
 * `down` after `downAfter` consecutive failures (after the first one if it was never up),
 * `up` again after one success.
 */
export class ServerRecord {
  state: ServerState = "unknown";
  consecutiveFailures = 0;
  checkedAt: number | null = null;
  checks = { host: notRun, port: notRun, api: notRun };
  latencyMs: number | null = null;
  readonly load = new ServerLoad();
  comfyuiVersion: string | null = null;
  device: ServerStatus["device"] = null;
  /** Node classes from /object_info. */
  readonly nodes: NodeList;
  /** The check running now, shared by concurrent refresh calls. */
  inFlight: Promise<void> | null = null;
  /** A server never seen up is not given the benefit of the doubt: one failure marks it down. */
  private everUp = false;

  constructor(
    readonly id: string,
    readonly entry: ServerEntry,
    /** Client with the short health-check timeout. */
    readonly probeClient: ComfyClient,
    /** The task-facing client (request timeout); it holds the server's capability record. */
    readonly client: ComfyClient,
    random?: () => number,
  ) {
    this.nodes = new NodeList(random);
  }

  /**
   * Records one finished check. Returns true when the server just became `up` (so its node
   * list and capabilities should be refetched).
   */
  record(reach: ReachResult, api: ApiResult & { latencyMs: number | null }, startedAt: number, finishedAt: number, downAfter: number): boolean {
    this.checks = { host: reach.host, port: reach.port, api: api.check };
    this.checkedAt = finishedAt;
    if (!api.check.ok || api.stats === null || api.queue === null) {
      this.consecutiveFailures += 1;
      if (!this.everUp || this.consecutiveFailures >= downAfter) this.state = "down";
      this.latencyMs = null;
      return false;
    }
    const cameUp = this.state !== "up";
    this.state = "up";
    this.everUp = true;
    this.consecutiveFailures = 0;
    this.latencyMs = api.latencyMs;
    this.load.fromCheck(api.queue, startedAt);
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
      queue: this.load.queue === null ? null : { ...this.load.queue },
      localPending: this.load.localPending,
      comfyuiVersion: this.comfyuiVersion,
      device: this.device === null ? null : { ...this.device },
      features: this.client.capabilities === null ? null : { ...this.client.capabilities },
      nodes: this.nodes.status(),
    };
  }
}
