import { constants } from "node:fs";
import { access, mkdir, readFile, rename, rm, statfs, writeFile } from "node:fs/promises";
import path from "node:path";
import { randomId } from "../lib/ids.ts";
import { objectKeyFor } from "./keys.ts";
import { isObjectKey, newObjectKey } from "./keys.ts";
import { signQuery } from "./signed-urls.ts";
import { StorageUnavailableError, type Storage } from "./storage.ts";

/** Options of the local-disk store. */
export interface LocalStorageOptions {
  /** Root folder of the files (the gateway passes `<DATA_DIR>/files`). */
  dir: string;
  /**
   * Public origin of the gateway; URLs are `<publicBaseUrl>/files/<key>`, served by routes/files.ts.
   * An object is read at each use (its `url` may be known only once the server listens).
   */
  publicBaseUrl: string | { readonly url: string };
  /** check() fails while the disk has less free space than this (default 0: not checked). */
  minFreeBytes?: number;
  /** Signs the expiring URLs of private files (uploads); see signed-urls.ts. */
  urlSecret: string;
}

/** The public URL of a key stored on local disk. */
export function localFileUrl(publicBaseUrl: string, key: string): string {
  return `${publicBaseUrl.replace(/\/+$/, "")}/files/${key}`;
}

/** A Storage that keeps files on the gateway's own disk, for single-node setups and development. */
export function createLocalStorage(options: LocalStorageOptions): Storage {
  const root = path.resolve(options.dir);
  const origin = options.publicBaseUrl;
  const publicBaseUrl = () => (typeof origin === "string" ? origin : origin.url);
  // Folders made so far (keys share a few `<prefix>/<yyyy>/<mm>` folders): a recursive mkdir on
  // every put cost about 1 ms of CPU per submit. A folder removed meanwhile is made again (ENOENT).
  const made = new Set<string>();
  const writeInto = async (folder: string, temporary: string, bytes: Uint8Array) => {
    if (!made.has(folder)) {
      await mkdir(folder, { recursive: true });
      made.add(folder);
    }
    try {
      // The caller's bytes go to the file as they are (no copy).
      await writeFile(temporary, bytes, { flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      made.delete(folder);
      await mkdir(folder, { recursive: true });
      made.add(folder);
      await writeFile(temporary, bytes, { flag: "wx" });
    }
  };

  return {
    async put(input) {
      const key = objectKeyFor(input);
      const file = path.join(root, ...key.split("/"));
      // Write then rename: a crash mid-write never leaves a truncated file under a real key.
      const temporary = `${file}.${randomId(6)}.tmp`;
      try {
        await writeInto(path.dirname(file), temporary, input.bytes);
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true }).catch(() => undefined);
        throw new StorageUnavailableError(undefined, { cause: error });
      }
      return { key, url: localFileUrl(publicBaseUrl(), key) };
    },

    privateUrl(url, ttlSeconds) {
      const base = localFileUrl(publicBaseUrl(), "");
      if (!url.startsWith(base)) return null;
      const key = url.slice(base.length);
      if (!isObjectKey(key)) return null;
      return `${url}?${signQuery(options.urlSecret, key, Math.floor(Date.now() / 1000) + ttlSeconds)}`;
    },

    async get(key) {
      const file = path.resolve(root, ...key.split("/"));
      if (!file.startsWith(root + path.sep)) throw new StorageUnavailableError("Not a key of this store");
      try {
        return new Uint8Array(await readFile(file));
      } catch (error) {
        throw new StorageUnavailableError(undefined, { cause: error });
      }
    },

    async delete(key) {
      // Keys are ours (random, made by newObjectKey), but never let one climb out of the root.
      const file = path.resolve(root, ...key.split("/"));
      if (!file.startsWith(root + path.sep)) return;
      await rm(file, { force: true });
    },

    async check() {
      // A real write and delete: permissions can say yes while a full or read-only disk says no.
      const probe = path.join(root, `.probe-${randomId(6)}`);
      try {
        await mkdir(root, { recursive: true });
        await access(root, constants.W_OK);
        await writeFile(probe, "ok", { flag: "wx" });
        await rm(probe, { force: true });
      } catch (error) {
        await rm(probe, { force: true }).catch(() => undefined);
        throw new StorageUnavailableError(undefined, { cause: error });
      }
      const minFree = options.minFreeBytes ?? 0;
      if (minFree <= 0) return;
      const disk = await statfs(root);
      const free = disk.bavail * disk.bsize;
      if (free < minFree) {
        throw new StorageUnavailableError(`Local storage has ${Math.floor(free / 1024)} KiB free, below the ${Math.floor(minFree / 1024)} KiB threshold`);
      }
    },
  };
}
