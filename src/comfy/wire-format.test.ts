import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tracesDir } from "../../test/fake-comfy/traces.ts";
import { backoffDelay } from "./backoff.ts";
import { decodeBinaryFrame, encodeMetadataPreviewFrame, encodePreviewFrame } from "./binary-frame.ts";
import { parseComfyMessage } from "./events.ts";
import { PromptTracker } from "./prompt-tracker.ts";

describe("message parsing", () => {
  it("parses every JSON message of every trace", () => {
    for (const file of ["ws-invert-fast.jsonl", "ws-progress-upscale.jsonl", "ws-progress-with-previews.jsonl", "ws-three-prompts-queued.jsonl"]) {
      const lines = readFileSync(`${tracesDir()}${file}`, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg: unknown });
      for (const { msg } of lines) {
        if (typeof msg !== "object" || msg === null || !("type" in msg)) continue;
        expect(parseComfyMessage(JSON.stringify(msg)), `${file}: ${JSON.stringify(msg).slice(0, 80)}`).not.toBeNull();
      }
    }
  });

  it("parses every JSON message of the 0.8.0 trace, progress_state included; feature_flags is not one we need", () => {
    const lines = readFileSync(`${tracesDir("0.8.0")}ws-trace.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { kind: string; msg: unknown });
    const types = new Set<string>();
    for (const { kind, msg } of lines) {
      if (kind === "BINARY" || kind.startsWith("CLIENT:") || typeof msg !== "object" || msg === null || !("type" in msg)) continue;
      const parsed = parseComfyMessage(JSON.stringify(msg));
      if (kind === "feature_flags") expect(parsed).toBeNull();
      else expect(parsed, JSON.stringify(msg).slice(0, 80)).not.toBeNull();
      types.add(kind);
    }
    expect(types).toContain("progress_state");
  });

  it("ignores unknown types, bad JSON and malformed known types", () => {
    expect(parseComfyMessage(JSON.stringify({ type: "crystools.monitor", data: {} }))).toBeNull();
    expect(parseComfyMessage("{not json")).toBeNull();
    expect(parseComfyMessage(JSON.stringify({ type: "progress", data: { value: "x" } }))).toBeNull();
    expect(parseComfyMessage(JSON.stringify({ type: "executed", data: { node: "9", output: null, prompt_id: "p" } }))).toMatchObject({ type: "executed" });
  });
});

describe("binary frames", () => {
  it("decodes preview images and skips other event types and formats", () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
    expect(decodeBinaryFrame(encodePreviewFrame("png", png))).toEqual({ format: "png", bytes: png });
    expect(decodeBinaryFrame(encodePreviewFrame("jpeg", png))?.format).toBe("jpeg");
    const other = encodePreviewFrame("png", png);
    new DataView(other.buffer).setUint32(0, 3);
    expect(decodeBinaryFrame(other)).toBeNull();
    const badFormat = encodePreviewFrame("png", png);
    new DataView(badFormat.buffer).setUint32(4, 9);
    expect(decodeBinaryFrame(badFormat)).toBeNull();
    expect(decodeBinaryFrame(Uint8Array.from([0, 0, 0, 1]))).toBeNull();
  });

  it("decodes event 4 (0.8.0 previews with metadata) with the prompt its metadata names", () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
    const metadata = { node_id: "3", prompt_id: "p-1", display_node_id: "3", parent_node_id: null, real_node_id: "3", image_type: "image/png" };
    expect(decodeBinaryFrame(encodeMetadataPreviewFrame(metadata, png))).toEqual({ format: "png", bytes: png, promptId: "p-1" });
    expect(decodeBinaryFrame(encodeMetadataPreviewFrame({ ...metadata, image_type: "image/jpeg" }, png))?.format).toBe("jpeg");
    expect(decodeBinaryFrame(encodeMetadataPreviewFrame({ ...metadata, image_type: "image/webp" }, png))).toBeNull();
    const cut = encodeMetadataPreviewFrame(metadata, png);
    new DataView(cut.buffer).setUint32(4, 10_000);
    expect(decodeBinaryFrame(cut)).toBeNull();
  });
});

describe("PromptTracker", () => {
  it("follows execution_start / executing and clears on executing null", () => {
    const t = new PromptTracker();
    t.observe({ type: "execution_start", data: { prompt_id: "a" } });
    expect(t.current).toBe("a");
    t.observe({ type: "executing", data: { prompt_id: "b", node: "1" } });
    expect(t.current).toBe("b");
    t.observe({ type: "executing", data: { prompt_id: "a", node: null } });
    expect(t.current).toBe("b");
    t.observe({ type: "executing", data: { prompt_id: "b", node: null } });
    expect(t.current).toBeNull();
  });
});

describe("backoffDelay", () => {
  it("doubles per attempt up to the cap, with jitter in the upper half", () => {
    const opts = { minMs: 100, maxMs: 1_000 };
    expect(backoffDelay(0, { ...opts, random: () => 0 })).toBe(50);
    expect(backoffDelay(0, { ...opts, random: () => 0.999 })).toBeLessThanOrEqual(100);
    expect(backoffDelay(3, { ...opts, random: () => 0 })).toBe(400);
    expect(backoffDelay(10, { ...opts, random: () => 0.5 })).toBe(750);
  });
});
