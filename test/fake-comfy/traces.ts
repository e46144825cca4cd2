import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { label, type Recorded } from "./ws-recorder.ts";

/** The traces recorded from a real ComfyUI 0.3.14, kept in the repository as fixtures (see test/fixtures/README.md). */
export const tracesDir = fileURLToPath(new URL("../fixtures/comfyui-0.3.14/", import.meta.url));

/** Reads a JSON trace file. */
export function readTrace<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(`${tracesDir}${name}`, "utf8")) as T;
}

interface TraceLine {
  kind: string;
  msg: { type?: string; data?: Record<string, unknown>; event?: number; format?: number; len?: number } | string;
}

/** A `.jsonl` trace as recorded frames (client markers and the final CLOSED dropped). */
export function readWsTrace(name: string): Recorded[] {
  const lines = readFileSync(`${tracesDir}${name}`, "utf8").split("\n").filter((l) => l.trim() !== "");
  const frames: Recorded[] = [];
  for (const line of lines.map((l) => JSON.parse(l) as TraceLine)) {
    if (typeof line.msg === "string") continue;
    if (line.kind === "BINARY") {
      frames.push({ kind: "binary", event: line.msg.event ?? 0, format: line.msg.format ?? 0, len: line.msg.len ?? 0, bytes: new Uint8Array() });
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
