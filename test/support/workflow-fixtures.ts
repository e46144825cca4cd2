import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

/** The shipped templates plus `style/invert_big`: `invert`, required to run on servers with every tag given. */
export function workflowsWithTagged(tag: string, ...more: string[]): string {
  const { dir } = tempDir();
  cpSync(shipped, dir, { recursive: true });
  cpSync(path.join(shipped, "style", "invert.json"), path.join(dir, "style", "invert_big.json"));
  const binding = JSON.parse(readFileSync(path.join(shipped, "style", "invert.binding.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(path.join(dir, "style", "invert_big.binding.json"), JSON.stringify({ ...binding, requiresTags: [tag, ...more] }));
  return dir;
}

/** The shipped templates, `style/img2img` requiring these model files instead of its own. */
export function workflowsWithImg2imgModels(models: readonly string[]): string {
  const { dir } = tempDir();
  cpSync(shipped, dir, { recursive: true });
  const bindingPath = path.join(dir, "style", "img2img.binding.json");
  const binding = JSON.parse(readFileSync(bindingPath, "utf8")) as Record<string, unknown>;
  writeFileSync(bindingPath, JSON.stringify({ ...binding, requiresModels: models }));
  return dir;
}

/** The shipped templates plus, for each tag, `style/invert_<tag>`: `invert`, required to run on servers with that tag. */
export function workflowsWithTaggedEach(tags: readonly string[]): string {
  const { dir } = tempDir();
  cpSync(shipped, dir, { recursive: true });
  const binding = JSON.parse(readFileSync(path.join(shipped, "style", "invert.binding.json"), "utf8")) as Record<string, unknown>;
  for (const tag of tags) {
    cpSync(path.join(shipped, "style", "invert.json"), path.join(dir, "style", `invert_${tag}.json`));
    writeFileSync(path.join(dir, "style", `invert_${tag}.binding.json`), JSON.stringify({ ...binding, requiresTags: [tag] }));
  }
  return dir;
}
