import http from "node:http";
import { summarize } from "../lib/stats.ts";
import { driverConfig, emit, runDriver } from "./driver-io.ts";
import type { HttpLoadResult } from "./http-load.ts";

/** Clients that each poll one URL at a fixed interval, as the product's frontends do. */
export interface PollersConfig {
  /** `http://host:port` */
  url: string;
  /** Client i polls paths[i % paths.length]. */
  paths: string[];
  clients: number;
  intervalMs: number;
  /** Polls during the first seconds (connecting, warming up) are reported apart from the rest. */
  warmupSec: number;
  durationSec: number;
  /** The credential every poll carries. */
  headers?: Record<string, string>;
}

/** The steady-state figures, plus the worst answer of the warm-up. */
export interface PollersResult extends HttpLoadResult {
  warmupMaxMs: number;
}

const now = () => performance.now();
const sleepUntil = (at: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, at - now())));

// autocannon's connectionRate starts every connection's one-second timer at the same instant, so a
// thousand "clients" fire in lockstep bursts, and its coordinated-omission correction then records
// each slow answer as if a request had been due every millisecond. Real clients poll at their own
// phase: here client i starts at i/clients of the interval, keeps its own keep-alive connection,
// and its latency runs from when the poll was due (a late answer delays the next poll, and that
// wait counts too). The first seconds, when a thousand handshakes arrive and the server's code is
// still cold, are reported apart (their worst answer): they measure a cold start, not the steady
// state the clients live in.
runDriver(async () => {
  const config = driverConfig<PollersConfig>();
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  await emit("started");
  const started = now();
  const measureFrom = started + config.warmupSec * 1000;
  let warmupMaxMs = 0;
  const stopAt = measureFrom + config.durationSec * 1000;

  const poll = (agent: http.Agent, path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const request = http.get(`${config.url}${path}`, { agent, headers: config.headers }, (response) => {
        response.resume();
        response.once("end", () => resolve(response.statusCode ?? 0));
      });
      request.once("error", reject);
    });

  const client = async (index: number): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const path = config.paths[index % config.paths.length]!;
    try {
      for (let due = started + (index / config.clients) * config.intervalMs; due < stopAt; due += config.intervalMs) {
        await sleepUntil(due);
        let status = "error";
        try {
          status = String(await poll(agent, path));
        } catch {
          // counted below
        }
        if (due < measureFrom) {
          warmupMaxMs = Math.max(warmupMaxMs, now() - due);
          continue;
        }
        if (status === "error") errors += 1;
        else statusCodes[status] = (statusCodes[status] ?? 0) + 1;
        latencies.push(now() - due);
      }
    } finally {
      agent.destroy();
    }
  };

  await Promise.all(Array.from({ length: config.clients }, (_, i) => client(i)));
  const elapsedSec = (now() - measureFrom) / 1000;
  const s = summarize(latencies);
  const non2xx = Object.entries(statusCodes).reduce((sum, [code, count]) => (code.startsWith("2") ? sum : sum + count), 0);
  const result: PollersResult = {
    requests: latencies.length,
    reqPerSec: latencies.length / elapsedSec,
    latency: { p50: s.p50, p99: s.p99, mean: s.mean, max: s.max },
    errors,
    timeouts: 0,
    non2xx,
    statusCodes,
    stages: {},
    warmupMaxMs,
  };
  await emit("result", { result });
});
