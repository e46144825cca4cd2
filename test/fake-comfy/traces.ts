import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { label, type Recorded } from "./ws-recorder.ts";

/** The recorded releases, each a folder of fixtures (see test/fixtures/README.md). */
export type TracedVersion = "0.3.14" | "0.8.0";

/** The folder of one release's recorded traces, kept in the repository as fixtures. */
export function tracesDir(version: TracedVersion = "0.3.14"): string {
  return fileURLToPath(new URL(`../fixtures/comfyui-${version}/`, import.meta.url));
}

/** Reads a JSON trace file. */
export function readTrace<T = unknown>(name: string, version: TracedVersion = "0.3.14"): T {
  return JSON.parse(readFileSync(`${tracesDir(version)}${name}`, "utf8")) as T;
}

interface TraceLine {
  kind: string;
  /** 0.8.0 traces record two sockets: which one received the line. */
  client?: string;
  msg:
    | { type?: string; data?: Record<string, unknown>; event?: number; format?: number; len?: number; metadata?: Record<string, unknown> }
    | string;
}

/**
 * A `.jsonl` trace as recorded frames (client markers and the final CLOSED dropped); with `client`,
 * only what that socket received.
 */
export function readWsTrace(name: string, version: TracedVersion = "0.3.14", client?: string): Recorded[] {
  const lines = readFileSync(`${tracesDir(version)}${name}`, "utf8").split("\n").filter((l) => l.trim() !== "");
  const frames: Recorded[] = [];
  for (const line of lines.map((l) => JSON.parse(l) as TraceLine)) {
    if (typeof line.msg !== "object" || line.msg === null || line.kind.startsWith("CLIENT:")) continue;
    if (client !== undefined && line.client !== client) continue;
    if (line.kind === "BINARY") {
      const { event = 0, format = 0, len = 0, metadata } = line.msg;
      frames.push({ kind: "binary", event, format, len, bytes: new Uint8Array(), ...(metadata === undefined ? {} : { metadata }) });
    } else if (line.msg.type !== undefined) {
      frames.push({ kind: "json", type: line.msg.type, data: line.msg.data ?? {} });
    }
  }
  return frames;
}

/**
 * The frames of one prompt: its JSON messages (by prompt_id) and the binary frames between its
 * execution_start and its final executing, as labels.
 */
export function promptSequence(frames: Recorded[], promptId: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const f of frames) {
    const mine = f.kind === "json" && f.data.prompt_id === promptId;
    if (mine && f.type === "execution_start") inside = true;
    if (mine || (inside && f.kind === "binary")) out.push(label(f));
    if (mine && f.type === "executing" && f.data.node === null) inside = false;
  }
  return out;
}

/** The prompt ids in a trace, in order of their execution_start. */
export function promptIds(frames: Recorded[]): string[] {
  return frames.filter((f) => f.kind === "json" && f.type === "execution_start").map((f) => String((f as { data: Record<string, unknown> }).data.prompt_id));
}

/** Key set of a message's data, sorted, for shape comparisons. */
export function keysOf(frames: Recorded[], type: string): string[] {
  const hit = frames.find((f) => f.kind === "json" && f.type === type);
  return hit?.kind === "json" ? Object.keys(hit.data).sort() : [];
}
