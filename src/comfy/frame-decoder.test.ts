import { describe, expect, it } from "vitest";
import { encodeMetadataPreviewFrame, encodePreviewFrame } from "./binary-frame.ts";
import { FrameDecoder, type PreviewEvent } from "./frame-decoder.ts";

const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
const metadataFor = (promptId: string) => ({ node_id: "3", prompt_id: promptId, display_node_id: "3", parent_node_id: null, real_node_id: "3", image_type: "image/png" });

function decoder() {
  const previews: PreviewEvent[] = [];
  const frames = new FrameDecoder({ clientId: "c", emit: (event) => event.type === "preview" && previews.push(event) });
  return { frames, previews };
}

describe("FrameDecoder preview attribution", () => {
  it("an event 4 preview belongs to the prompt its metadata names, whatever runs now", () => {
    const { frames, previews } = decoder();
    frames.push(JSON.stringify({ type: "execution_start", data: { prompt_id: "running-now" } }));
    frames.push(encodeMetadataPreviewFrame(metadataFor("named"), png));
    expect(previews.map((p) => p.promptId)).toEqual(["named"]);
  });

  it("an event 4 preview is attributed even when nothing is known to run (after a reconnect)", () => {
    const { frames, previews } = decoder();
    frames.reset();
    frames.push(encodeMetadataPreviewFrame(metadataFor("named"), png));
    expect(previews).toEqual([{ type: "preview", promptId: "named", format: "png", bytes: png }]);
  });

  it("an event 1 preview belongs to the prompt executing when it came", () => {
    const { frames, previews } = decoder();
    frames.push(JSON.stringify({ type: "execution_start", data: { prompt_id: "running-now" } }));
    frames.push(encodePreviewFrame("png", png));
    frames.reset();
    frames.push(encodePreviewFrame("png", png));
    expect(previews.map((p) => p.promptId)).toEqual(["running-now", null]);
  });
});
