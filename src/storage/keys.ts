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
