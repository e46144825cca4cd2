/**
 * The node classes the fake knows, described once and served as `/object_info`.
 * Enough for the traced model-free workflows and a plain txt2img / img2img graph.
 */

/** A literal input type with its options, a combo list, or a link type (IMAGE, MODEL, ...). */
export type InputSpec = [type: string | string[], options?: Record<string, unknown>];

/** One node class. */
export interface NodeDef {
  category: string;
  required: Record<string, InputSpec>;
  optional?: Record<string, InputSpec>;
  outputs: Array<[type: string, name: string]>;
  outputNode?: boolean;
}

const samplers = ["euler", "euler_ancestral", "heun", "dpm_2", "dpmpp_2m", "dpmpp_sde", "ddim", "uni_pc"];
const schedulers = ["normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta"];
const int = (def: number, min = 0, max = 0xffffffffffff): InputSpec => ["INT", { default: def, min, max }];
const float = (def: number, min = 0, max = 100): InputSpec => ["FLOAT", { default: def, min, max }];

/** Node classes by name. */
export const nodeCatalog: Record<string, NodeDef> = {
  CheckpointLoaderSimple: {
    category: "loaders",
    // A combo of the files in models/checkpoints, as on a real server: see offeredSpec.
    required: { ckpt_name: [[]] },
    outputs: [["MODEL", "MODEL"], ["CLIP", "CLIP"], ["VAE", "VAE"]],
  },
  CLIPTextEncode: {
    category: "conditioning",
    required: { text: ["STRING", { multiline: true }], clip: ["CLIP"] },
    outputs: [["CONDITIONING", "CONDITIONING"]],
  },
  KSampler: {
    category: "sampling",
    required: {
      model: ["MODEL"],
      seed: int(0),
      steps: int(20, 1, 10_000),
      cfg: float(8),
      sampler_name: [samplers],
      scheduler: [schedulers],
      positive: ["CONDITIONING"],
      negative: ["CONDITIONING"],
      latent_image: ["LATENT"],
      denoise: float(1, 0, 1),
    },
    outputs: [["LATENT", "LATENT"]],
  },
  VAEDecode: { category: "latent", required: { samples: ["LATENT"], vae: ["VAE"] }, outputs: [["IMAGE", "IMAGE"]] },
  VAEEncode: { category: "latent", required: { pixels: ["IMAGE"], vae: ["VAE"] }, outputs: [["LATENT", "LATENT"]] },
  EmptyLatentImage: {
    category: "latent",
    required: { width: int(512, 16, 16_384), height: int(512, 16, 16_384), batch_size: int(1, 1, 4096) },
    outputs: [["LATENT", "LATENT"]],
  },
  LoadImage: {
    category: "image",
    required: { image: ["STRING", { image_upload: true }] },
    outputs: [["IMAGE", "IMAGE"], ["MASK", "MASK"]],
  },
  SaveImage: {
    category: "image",
    required: { images: ["IMAGE"], filename_prefix: ["STRING", { default: "ComfyUI" }] },
    outputs: [],
    outputNode: true,
  },
  SaveImageWebsocket: { category: "api node/image", required: { images: ["IMAGE"] }, outputs: [], outputNode: true },
  ImageInvert: { category: "image", required: { image: ["IMAGE"] }, outputs: [["IMAGE", "IMAGE"]] },
  ImageBlur: {
    category: "image/postprocessing",
    required: { image: ["IMAGE"], blur_radius: int(1, 1, 31), sigma: float(1, 0.1, 10) },
    outputs: [["IMAGE", "IMAGE"]],
  },
  EmptyImage: {
    category: "image",
    required: { width: int(512, 1, 16_384), height: int(512, 1, 16_384), batch_size: int(1, 1, 4096), color: int(0, 0, 0xffffff) },
    outputs: [["IMAGE", "IMAGE"]],
  },
  ImageScale: {
    category: "image/upscaling",
    required: {
      image: ["IMAGE"],
      upscale_method: [["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]],
      width: int(512, 0, 16_384),
      height: int(512, 0, 16_384),
      crop: [["disabled", "center"]],
    },
    outputs: [["IMAGE", "IMAGE"]],
  },
};

/** Literal (widget) types; any other type name is a link-only type. */
export const literalTypes = new Set(["INT", "FLOAT", "STRING", "BOOLEAN"]);

/** The files a fake holds, which the inputs that pick a file offer as their choices. */
export interface FakeFiles {
  inputs: readonly string[];
  checkpoints: readonly string[];
}

/** An input's spec as this fake offers it: LoadImage lists the uploads, CheckpointLoaderSimple the checkpoints. */
export function offeredSpec(classType: string, name: string, spec: InputSpec, files: FakeFiles): InputSpec {
  if (classType === "LoadImage" && name === "image") return [[...files.inputs].sort(), { image_upload: true }];
  if (classType === "CheckpointLoaderSimple" && name === "ckpt_name") return [[...files.checkpoints].sort()];
  return spec;
}

/** `/object_info` in ComfyUI's shape for every offered class (`offered` null: the whole catalog). */
export function objectInfo(files: FakeFiles, offered: readonly string[] | null = null): Record<string, unknown> {
  const entries = Object.entries(nodeCatalog).filter(([name]) => offered === null || offered.includes(name));
  return Object.fromEntries(entries.map(([name, def]) => [name, describe(name, def, files)]));
}

function describe(name: string, def: NodeDef, files: FakeFiles): Record<string, unknown> {
  const required = Object.fromEntries(Object.entries(def.required).map(([input, spec]) => [input, offeredSpec(name, input, spec, files)]));
  return {
    input: { required, ...(def.optional === undefined ? {} : { optional: def.optional }) },
    input_order: { required: Object.keys(def.required) },
    output: def.outputs.map(([type]) => type),
    output_is_list: def.outputs.map(() => false),
    output_name: def.outputs.map(([, n]) => n),
    name,
    display_name: name,
    description: "",
    python_module: "nodes",
    category: def.category,
    output_node: def.outputNode === true,
  };
}
