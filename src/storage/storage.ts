import { AppError } from "../errors/app-error.ts";

/** What a caller hands to storage: the bytes and how to label them. */
export interface PutInput {
  bytes: Uint8Array;
  contentType: string;
  /** File extension without the dot (`png`); chosen by the caller from sniffed bytes, never from a user's file name. */
  extension: string;
  /** Folder-like prefix chosen by code (`style/results`), never by a user. */
  prefix?: string;
  /**
   * A stable identity with a secret part (a task's output: its prompt id and index): the key is
   * derived from it, so storing the same output again replaces the file instead of adding one.
   */
  derivedFrom?: string;
  /** A user's upload: not publicly readable, only through `privateUrl`. */
  private?: boolean;
}

/** Where a stored object lives: its key inside the store and the URL clients fetch it from. */
export interface StoredObject {
  key: string;
  url: string;
}

/**
 * A place to keep result and upload files. Keys are random, or derived from an identity that
 * includes a secret (then a repeated store of the same thing overwrites it with the same bytes).
 */
export interface Storage {
  /** Stores the bytes under a fresh random key. Rejects with StorageUnavailableError when the store fails. */
  put(input: PutInput): Promise<StoredObject>;
  /**
   * Removes an object (a missing one is not an error). Optional: the OSS store is PUT-only by
   * product decision, so what it stored stays; callers treat deletion as best effort.
   */
  delete?(key: string): Promise<void>;
  /**
   * The bytes of a stored object: a task waiting in the gateway is uploaded to its server from
   * here when it is dispatched. Rejects with StorageUnavailableError when it cannot be read.
   */
  get(key: string): Promise<Uint8Array>;
  /**
   * An expiring URL for the holder of `url` (one this store returned from `put`), valid for
   * `ttlSeconds`; null when the URL is not this store's.
   */
  privateUrl(url: string, ttlSeconds: number): string | null;
  /** Readiness probe: resolves when the store can take writes, rejects with StorageUnavailableError otherwise. */
  check(): Promise<void>;
}

/**
 * The store could not take or serve a file (disk full, OSS down, bad credentials).
 * The message is generic on purpose: it reaches clients; the real reason is in `cause`.
 */
export class StorageUnavailableError extends AppError {
  constructor(message = "File storage is unavailable", options?: { cause?: unknown }) {
    super("storage_unavailable", message, undefined, options);
    this.name = "StorageUnavailableError";
  }
}
