import { Agent, request } from "node:http";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import mysql from "mysql2/promise";
import { multipartBody } from "../../src/comfy/multipart-body.ts";
import { summarize } from "../lib/stats.ts";
import { driverConfig, emit, runDriver } from "./driver-io.ts";
import type { HttpLoadResult } from "./http-load.ts";

/** What the orchestrator asks for: the submit's own work, with no HTTP server in front. */
export interface FloorConfig {
  comfyUrl: string;
  /** mysql://... and a database this driver creates (the orchestrator drops it). */
  databaseUrl: string;
  databaseName: string;
  /** The image uploaded every time (a file: 1 MB does not fit in an environment variable). */
  imageFile: string;
  connections: number;
  durationSec: number;
  warmupSec: number;
}

/** The result: the fields of an http-load result that apply, plus this process's own CPU. */
export interface FloorResult extends HttpLoadResult {
  cpuMs: number;
  elapsedMs: number;
}

/**
 * The floor of the submit scenario: `connections` loops, each doing what a submit must do at the
 * least (upload the image to ComfyUI, queue the prompt, insert one row) with the fewest round trips
 * (the insert overlaps the upload; the upload is one prebuilt buffer over node:http, keep-alive)
 * and nothing else. Its latency is what no server in front of this work can beat.
 */
runDriver(async () => {
  const config = driverConfig<FloorConfig>();
  const image = readFileSync(config.imageFile);
  const workflow = JSON.parse(readFileSync(new URL("../../workflows/style/invert.json", import.meta.url), "utf8")) as Record<string, { inputs: Record<string, unknown> }>;
  const admin = await mysql.createConnection(config.databaseUrl);
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${config.databaseName}\``);
  await admin.end();
  const db = mysql.createPool({ uri: config.databaseUrl, database: config.databaseName, connectionLimit: Math.max(2, config.connections) });
  await db.query("CREATE TABLE IF NOT EXISTS photos (id CHAR(36) PRIMARY KEY, workflow VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL, created_at DATETIME(3) NOT NULL)");
  const comfy = new URL(config.comfyUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections * 2 });

  const post = (path: string, body: Uint8Array, contentType: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request({ host: comfy.hostname, port: comfy.port, path, method: "POST", agent, headers: { "content-type": contentType, "content-length": body.byteLength } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${path} answered ${res.statusCode}`));
          resolve(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });

  const once = async () => {
    const id = randomUUID();
    // One name, overwritten, as the peer does with the client's file name: the fake keeps inputs in memory.
    const { body, contentType } = multipartBody({ overwrite: "true" }, { name: "image", filename: "floor.png", contentType: "image/png", bytes: image });
    const [uploaded] = await Promise.all([
      post("/upload/image", body, contentType),
      db.execute("INSERT INTO photos (id, workflow, status, created_at) VALUES (?, 'invert', 'queued', NOW(3))", [id]),
    ]);
    const prompt = structuredClone(workflow);
    prompt["1"]!.inputs.image = uploaded.name;
    await post("/prompt", Buffer.from(JSON.stringify({ prompt, client_id: "floor" })), "application/json");
  };

  const loop = async (until: number, latencies: number[] | null, errors: { count: number }) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        await once();
        latencies?.push(performance.now() - t0);
      } catch {
        errors.count += 1;
      }
    }
  };
  const run = (sec: number, latencies: number[] | null, errors: { count: number }) => {
    const until = performance.now() + sec * 1000;
    return Promise.all(Array.from({ length: config.connections }, () => loop(until, latencies, errors)));
  };

  await run(config.warmupSec, null, { count: 0 });
  await emit("started");
  const latencies: number[] = [];
  const errors = { count: 0 };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run(config.durationSec, latencies, errors);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await db.end();
  agent.destroy();
  const summary = summarize(latencies);
  const result: FloorResult = {
    requests: latencies.length,
    reqPerSec: latencies.length / (elapsedMs / 1000),
    latency: { p50: summary.p50, p99: summary.p99, mean: summary.mean, max: summary.max },
    errors: errors.count,
    timeouts: 0,
    non2xx: 0,
    statusCodes: {},
    stages: {},
    cpuMs: (cpu.user + cpu.system) / 1000,
    elapsedMs,
  };
  await emit("result", { result });
});
