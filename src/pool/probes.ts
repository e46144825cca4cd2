import { lookup } from "node:dns/promises";
import { isIP, connect } from "node:net";
import type { ComfyClient } from "../comfy/comfy-client.ts";
import type { QueueState, SystemStats } from "../comfy/schemas.ts";
import type { CheckResult } from "./schemas.ts";

/** Outcome of the host + port probes. */
export interface ReachResult {
  host: CheckResult;
  port: CheckResult;
}

/** Outcome of the API probe; the answers are kept for the status. */
export interface ApiResult {
  check: CheckResult;
  stats: SystemStats | null;
  queue: QueueState | null;
}

const errorCode = (error: unknown): string =>
  error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : error instanceof Error ? error.message : String(error);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** TCP connect outcome: open, refused (the host answered), or no answer / other failure. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<"open" | "refused" | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done("timeout"));
    socket.once("connect", () => done("open"));
    socket.once("error", (error) => done(errorCode(error) === "ECONNREFUSED" ? "refused" : errorCode(error)));
  });
}

/**
 * Checks (1) the host: its name resolves and it answers a TCP connect, accepting or refusing it
 * (a refusal proves the host is there; a connect timeout leaves it unreachable), and (2) the port.
 */
export async function probeReach(url: string, timeoutMs: number, now: () => number): Promise<ReachResult> {
  const parsed = new URL(url);
  const hostname = parsed.hostname.replace(/^\[|\]$/g, "");
  const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
  let address = hostname;
  const dnsStart = now();
  if (isIP(hostname) === 0) {
    try {
      address = (await withTimeout(lookup(hostname), timeoutMs, "DNS lookup")).address;
    } catch (error) {
      const failed = { ok: false, error: `DNS: ${errorCode(error)}`, ms: now() - dnsStart };
      return { host: failed, port: { ok: false, error: "skipped: host not resolved" } };
    }
  }
  const dnsMs = now() - dnsStart;
  const tcpStart = now();
  const outcome = await tcpConnect(address, port, timeoutMs);
  const ms = now() - tcpStart;
  if (outcome === "open") return { host: { ok: true, ms: dnsMs }, port: { ok: true, ms } };
  if (outcome === "refused") return { host: { ok: true, ms: dnsMs }, port: { ok: false, error: "connection refused", ms } };
  const error = outcome === "timeout" ? `no answer within ${timeoutMs} ms` : outcome;
  return { host: { ok: false, error: `TCP: ${error}`, ms: dnsMs }, port: { ok: false, error, ms } };
}

/** Checks (3): `/system_stats` and `/queue` both answer within the client's timeout. */
export async function probeApi(client: ComfyClient, now: () => number): Promise<ApiResult & { latencyMs: number | null }> {
  const start = now();
  let latencyMs: number | null = null;
  try {
    const [stats, queue] = await Promise.all([
      client.systemStats().then((s) => {
        latencyMs = now() - start;
        return s;
      }),
      client.getQueue(),
    ]);
    return { check: { ok: true, ms: now() - start }, stats, queue, latencyMs };
  } catch (error) {
    return { check: { ok: false, error: error instanceof Error ? error.message : String(error), ms: now() - start }, stats: null, queue: null, latencyMs: null };
  }
}
