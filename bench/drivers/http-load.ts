import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import autocannon from "autocannon";
import { parseServerTiming, summarize, type Summary } from "../lib/stats.ts";
import { driverConfig, emit, runDriver } from "./driver-io.ts";

/** What the orchestrator asks for: one autocannon run. */
export interface HttpLoadConfig {
  url: string;
  method: "GET" | "POST";
  /** Paths cycled by every connection (one request each, in order). */
  paths: string[];
  headers?: Record<string, string>;
  /** A file holding the request body (a 1 MB body does not fit in an environment variable). */
  bodyFile?: string;
  connections: number;
  /** Run for this long... */
  durationSec?: number;
  /** ...or until this many requests were answered. */
  amount?: number;
  /** Collects the Server-Timing stages of 2xx answers. */
  serverTiming?: boolean;
}

/** What the driver prints as its `result` event. */
export interface HttpLoadResult {
  requests: number;
  reqPerSec: number;
  latency: { p50: number; p99: number; mean: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  stages: Record<string, Summary>;
}

// autocannon runs in this separate process so that the load generator's own CPU is not charged to
// the gateway, and it keeps connections alive and measures with HdrHistogram (which a fetch loop
// in the orchestrator would not).
runDriver(async () => {
  const config = driverConfig<HttpLoadConfig>();
  const body = config.bodyFile ? readFileSync(config.bodyFile) : undefined;
  const stages: Record<string, number[]> = {};
  const onResponse = (status: number, _body: string, _context: object, headers: IncomingHttpHeaders | undefined) => {
    if (!config.serverTiming || headers === undefined || status < 200 || status >= 300) return;
    const key = Object.keys(headers).find((name) => name.toLowerCase() === "server-timing");
    const header = key === undefined ? undefined : headers[key];
    if (header === undefined) return;
    for (const [stage, ms] of Object.entries(parseServerTiming(Array.isArray(header) ? header.join(",") : header))) {
      (stages[stage] ??= []).push(ms);
    }
  };
  void emit("started");
  const result = await autocannon({
    url: config.url,
    connections: config.connections,
    ...(config.amount ? { amount: config.amount } : { duration: config.durationSec ?? 10 }),
    requests: config.paths.map((path) => ({
      method: config.method,
      path,
      ...(config.headers ? { headers: config.headers } : {}),
      ...(body ? { body } : {}),
      onResponse,
    })),
  });
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, (stat as { count: number }).count]));
  const out: HttpLoadResult = {
    requests: result.requests.total,
    reqPerSec: result.requests.total / result.duration,
    latency: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    stages: Object.fromEntries(Object.entries(stages).map(([stage, values]) => [stage, summarize(values)])),
  };
  await emit("result", { result: out });
});
