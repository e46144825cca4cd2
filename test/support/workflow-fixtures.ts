import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "./dialects.ts";

const shipped = path.resolve(import.meta.dirname, "../../workflows");

/**
 * The shipped templates plus `style/broken`: a swatch whose EmptyImage lacks `height`, which the
 * gateway cannot see but ComfyUI's validation refuses.
 */
export function workflowsWithBroken(): string {
  const { dir } = tempDir();
  cpSync(shipped, dir, { recursive: true });
  mkdirSync(path.join(dir, "style"), { recursive: true });
  writeFileSync(
    path.join(dir, "style", "broken.json"),
    JSON.stringify({
      "1": { class_type: "EmptyImage", inputs: { width: 8, batch_size: 1, color: 0 } },
      "2": { class_type: "SaveImage", inputs: { images: ["1", 0], filename_prefix: "aipack_style_broken" } },
    }),
  );
  writeFileSync(
    path.join(dir, "style", "broken.binding.json"),
    JSON.stringify({ description: "Refused by ComfyUI: a required input is missing.", parameters: {}, outputs: ["2"] }),
  );
  return dir;
}
