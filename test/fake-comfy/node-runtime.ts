import { createHash } from "node:crypto";
import { decodePng, solidRaster, type Raster } from "./png.ts";

/** A latent: just enough to turn back into a deterministic image. */
interface Latent {
  width: number;
  height: number;
  batch: number;
  seed: number;
  source: Raster[] | null;
}

/** A file reference as ComfyUI reports it. */
export interface FileRef {
  filename: string;
  subfolder: string;
  type: string;
}

/** What a running node may do besides computing: report progress, save files, read uploads. */
export interface NodeContext {
  /** Reports one progress step (sleeps, sends `progress`, maybe a preview, honours interrupts). */
  step(value: number, max: number, preview?: Raster): Promise<void>;
  /** Stores a PNG in output/ under ComfyUI's `prefix_00001_.png` naming. */
  saveOutput(prefix: string, image: Raster): FileRef;
  readInput(name: string): Uint8Array | undefined;
  /** Steps configured for this class, if any (overrides the node's own count). */
  stepsOverride: number | undefined;
}

/** A node's result: its output values by index, and the UI output shown in `executed`/history. */
export interface NodeResult {
  outputs: unknown[];
  ui?: { images: FileRef[] };
}

/** An error raised by a node, reported as `execution_error`. */
export class NodeFailure extends Error {
  constructor(
    message: string,
    readonly exceptionType = "Exception",
  ) {
    super(message);
  }
}

type NodeImpl = (inputs: Record<string, unknown>, ctx: NodeContext) => Promise<NodeResult>;

const images = (v: unknown): Raster[] => (Array.isArray(v) ? (v as Raster[]) : []);
const num = (v: unknown, fallback: number): number => (typeof v === "number" ? v : fallback);

async function progress(ctx: NodeContext, count: number, from: 0 | 1, previews?: Raster[]): Promise<void> {
  for (let i = 0; i < count; i++) await ctx.step(i + from, count, previews?.[i]);
}

function invert(image: Raster): Raster {
  return { ...image, rgb: image.rgb.map((v) => 255 - v) };
}

function scale(image: Raster, width: number, height: number): Raster {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.floor((x * image.width) / width);
      const sy = Math.floor((y * image.height) / height);
      out.set(image.rgb.subarray((sy * image.width + sx) * 3, (sy * image.width + sx) * 3 + 3), (y * width + x) * 3);
    }
  }
  return { width, height, rgb: out };
}

/** A deterministic "generated" image: a gradient whose colours come from the seed. */
function render(latent: Latent, index: number): Raster {
  const hash = createHash("sha256").update(`${latent.seed}:${index}`).digest();
  const base = latent.source?.[index % latent.source.length];
  const image = base === undefined ? solidRaster(latent.width, latent.height, 0) : scale(base, latent.width, latent.height);
  const rgb = image.rgb.map((v, i) => {
    const pixel = Math.floor(i / 3);
    const tint = ((hash[i % 3] ?? 0) + (pixel % image.width)) & 0xff;
    return base === undefined ? tint : (v + tint) >> 1;
  });
  return { ...image, rgb };
}

const token = (kind: string, name: unknown) => ({ kind, name: String(name) });

/** How each known class executes. */
export const nodeImpls: Record<string, NodeImpl> = {
  CheckpointLoaderSimple: async (i) => ({ outputs: [token("model", i.ckpt_name), token("clip", i.ckpt_name), token("vae", i.ckpt_name)] }),
  CLIPTextEncode: async (i) => ({ outputs: [{ text: String(i.text) }] }),
  EmptyLatentImage: async (i) => ({
    outputs: [{ width: num(i.width, 512) / 8, height: num(i.height, 512) / 8, batch: num(i.batch_size, 1), seed: 0, source: null }],
  }),
  KSampler: async (i, ctx) => {
    const latent = i.latent_image as Latent;
    const out: Latent = { ...latent, seed: num(i.seed, 0) };
    const count = ctx.stepsOverride ?? num(i.steps, 20);
    for (let s = 1; s <= count; s++) await ctx.step(s, count, render(out, 0));
    return { outputs: [out] };
  },
  VAEEncode: async (i) => {
    const pixels = images(i.pixels);
    const first = pixels[0] ?? solidRaster(8, 8, 0);
    return { outputs: [{ width: Math.max(1, Math.floor(first.width / 8)), height: Math.max(1, Math.floor(first.height / 8)), batch: pixels.length, seed: 0, source: pixels }] };
  },
  VAEDecode: async (i) => {
    const latent = i.samples as Latent;
    const full = { ...latent, width: latent.width * 8, height: latent.height * 8 };
    return { outputs: [Array.from({ length: latent.batch }, (_, n) => render(full, n))] };
  },
  EmptyImage: async (i) => ({
    outputs: [Array.from({ length: num(i.batch_size, 1) }, () => solidRaster(num(i.width, 512), num(i.height, 512), num(i.color, 0)))],
  }),
  LoadImage: async (i, ctx) => {
    const bytes = ctx.readInput(String(i.image));
    const raster = bytes === undefined ? null : decodePng(bytes);
    if (raster === null) throw new NodeFailure(`cannot identify image file '${String(i.image)}'`, "UnidentifiedImageError");
    return { outputs: [[raster], null] };
  },
  ImageInvert: async (i) => ({ outputs: [images(i.image).map(invert)] }),
  // The fake does not blur: a copy keeps outputs deterministic and cheap.
  ImageBlur: async (i) => ({ outputs: [images(i.image).map((r) => ({ ...r, rgb: r.rgb.slice() }))] }),
  ImageScale: async (i) => ({ outputs: [images(i.image).map((r) => scale(r, num(i.width, r.width) || r.width, num(i.height, r.height) || r.height))] }),
  SaveImage: async (i, ctx) => {
    const prefix = String(i.filename_prefix);
    if (prefix.includes("..")) {
      throw new NodeFailure(
        `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: /srv\n         output_dir: /srv/ComfyUI/output\n         commonpath: /srv`,
      );
    }
    return { outputs: [], ui: { images: images(i.images).map((r) => ctx.saveOutput(prefix, r)) } };
  },
  // The real node sends each image as a preview frame with progress 0..n-1 of n and no UI output.
  SaveImageWebsocket: async (i, ctx) => {
    const list = images(i.images);
    await progress(ctx, ctx.stepsOverride ?? list.length, 0, list);
    return { outputs: [] };
  },
};
