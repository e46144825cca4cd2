import { encodePng } from "../../test/fake-comfy/png.ts";

/**
 * A PNG of pseudo-random pixels: noise does not compress, so the file is as large as its raster
 * (a solid colour would deflate to a few hundred bytes and measure nothing).
 */
export function noisePng(width: number, height: number, seed = 1): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < rgb.length; i++) {
    // xorshift32: deterministic, so every run uploads the same bytes.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    rgb[i] = x & 0xff;
  }
  return encodePng({ width, height, rgb });
}

/** About 1 MiB: the size of a phone photo after the app's own downscale. */
export const largePng = () => noisePng(600, 580);

/** A few KB: for runs that count jobs, not bytes. */
export const smallPng = () => noisePng(32, 32);
