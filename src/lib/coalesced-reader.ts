/** A shared read (an upstream answer, a small table): callers in one window share one request and its answer. */
export interface CoalescedReader<T> {
  /**
   * An answer at most `maxAgeMs` old. With `notBefore` (ms since the epoch), only an answer whose
   * request started after that instant will do: a task queued at `notBefore` is then in it.
   */
  read(notBefore?: number): Promise<T>;
  /** Forgets the cached answer and any request in flight: the next read asks upstream again. */
  invalidate(): void;
}

/**
 * Wraps an upstream read so that concurrent callers share one request, and a finished answer is
 * reused for `maxAgeMs`: a thousand clients polling a task cost one ComfyUI /queue read per window.
 */
export function coalescedReader<T>(read: () => Promise<T>, options: { maxAgeMs: number; now?: () => number }): CoalescedReader<T> {
  const now = options.now ?? Date.now;
  // Bumped by invalidate(): an answer to a request from an older generation is never cached.
  let generation = 0;
  // invalidate() drops the request in flight, so the one held here is always of this generation.
  let inFlight: { promise: Promise<T>; startedAt: number } | undefined;
  let cached: { value: T; at: number; startedAt: number } | undefined;

  const start = (): Promise<T> => {
    const startedAt = now();
    const mine = generation;
    const promise: Promise<T> = read().then(
      (value) => {
        if (mine === generation && (!cached || cached.startedAt <= startedAt)) cached = { value, at: now(), startedAt };
        if (inFlight?.promise === promise) inFlight = undefined;
        return value;
      },
      (error: unknown) => {
        if (inFlight?.promise === promise) inFlight = undefined;
        throw error;
      },
    );
    inFlight = { promise, startedAt };
    return promise;
  };

  return {
    read(notBefore = Number.NEGATIVE_INFINITY) {
      // Strictly after: a request started in the same millisecond may have missed the task.
      if (cached && now() - cached.at < options.maxAgeMs && cached.startedAt > notBefore) return Promise.resolve(cached.value);
      if (inFlight && inFlight.startedAt > notBefore) return inFlight.promise;
      return start();
    },
    invalidate() {
      generation += 1;
      cached = undefined;
      inFlight = undefined;
    },
  };
}
