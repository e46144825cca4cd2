import { createHash } from "node:crypto";
import { randomId } from "../lib/ids.ts";

const prefixPattern = /^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/i;
const extensionPattern = /^[a-z0-9]{1,8}$/;
// What newObjectKey produces: code-chosen folders, yyyy/mm, then 24 base64url chars and an extension.
const segmentPattern = /^[A-Za-z0-9_-]+$/;
const fileNamePattern = /^[A-Za-z0-9_-]+\.[a-z0-9]{1,8}$/;

/**
 * A fresh storage key: `<prefix>/<yyyy>/<mm>/<24 random base64url chars>.<ext>`.
 * 144 random bits make keys unguessable, so a URL is the only capability needed to read a file.
 * Throws TypeError for a malformed prefix or extension: both come from code, so that is a bug.
 */
export function newObjectKey(input: { prefix?: string; extension: string; now?: Date }): string {
  const { prefix, extension } = input;
  if (prefix !== undefined && !prefixPattern.test(prefix)) {
    throw new TypeError(`storage prefix "${prefix}" must be letters, digits, _ or - separated by /`);
  }
  if (!extensionPattern.test(extension)) {
    throw new TypeError(`storage extension "${extension}" must be 1-8 lowercase letters or digits`);
  }
  const now = input.now ?? new Date();
  const year = String(now.getUTCFullYear());
  const month = String(now.getUTCMonth() + 1).padStart(2, "0");
  const name = `${randomId(18)}.${extension}`;
  return [prefix, year, month, name].filter(Boolean).join("/");
}

/**
 * The key of `input`: derived from `input.derivedFrom` when given (`<prefix>/<24 chars of its
 * SHA-256>.<ext>`, the same identity always giving the same key, so a retried store overwrites
 * instead of adding a file), else a fresh random one. The identity must hold a secret part (a
 * task's ComfyUI prompt id) so that the key stays unguessable.
 */
export function objectKeyFor(input: { prefix?: string; extension: string; derivedFrom?: string }): string {
  if (input.derivedFrom === undefined) return newObjectKey(input);
  const random = newObjectKey({ ...input, now: new Date(0) }); // validates prefix and extension
  const name = createHash("sha256").update(input.derivedFrom).digest("base64url").slice(0, 24);
  return [input.prefix, `${name}.${keyExtension(random)}`].filter(Boolean).join("/");
}

/**
 * Whether `key` has the shape newObjectKey produces. The file server only opens such keys,
 * which rules out `..`, absolute paths, backslashes, hidden and temporary files.
 */
export function isObjectKey(key: string): boolean {
  const segments = key.split("/");
  const fileName = segments.pop();
  if (fileName === undefined || !fileNamePattern.test(fileName)) return false;
  return segments.every((segment) => segmentPattern.test(segment));
}

/** The extension of a key produced by newObjectKey (`png`). */
export function keyExtension(key: string): string {
  return key.slice(key.lastIndexOf(".") + 1);
}
