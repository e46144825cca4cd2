import type { Storage, StoredObject } from "../storage/index.ts";

/**
 * A submit's input image on its way to storage. Where the store can take a file back (local
 * disk), the write starts as soon as the image is checked, so that it overlaps the user lookup and
 * admission instead of following them; a submit that ends without its row discards it. Where the
 * store cannot (OSS is PUT-only by product decision), nothing is written until the submitter asks
 * for it, once the submit is admitted, so a refused submit leaves nothing behind there either.
 * The row is written only after the write succeeded: a failed write never leaves a row.
 */
export class StagedInput {
  private write: Promise<StoredObject> | null = null;

  constructor(
    private readonly storage: Storage,
    private readonly put: () => Promise<StoredObject>,
  ) {
    if (storage.delete) this.begin();
  }

  /** The stored object, writing it now if the write has not started; rejects as the store does. */
  stored(): Promise<StoredObject> {
    return this.begin();
  }

  /** The submit ends without using it: the write, if one started, is awaited and its file removed. */
  async discard(): Promise<void> {
    const write = this.write;
    if (!write) return;
    const stored = await write.catch(() => null);
    if (stored) await this.storage.delete?.(stored.key).catch(() => undefined);
  }

  private begin(): Promise<StoredObject> {
    if (!this.write) {
      this.write = this.put();
      // Awaited later (stored or discard); a failure before then is not an unhandled rejection.
      this.write.catch(() => undefined);
    }
    return this.write;
  }
}
