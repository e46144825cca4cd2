/**
 * Wraps an upstream read so that concurrent callers share one request, and a finished answer is
 * reused for `maxAgeMs`: a thousand clients polling a task cost one ComfyUI /queue read per window.
 */
export function coalescedReader<T>(read: () => Promise<T>, options: { maxAgeMs: number; now?: () => number }): () => Promise<T> {
  const now = options.now ?? Date.now;
  let inFlight: Promise<T> | undefined;
  let cached: { value: T; at: number } | undefined;
  return () => {
    if (cached && now() - cached.at < options.maxAgeMs) return Promise.resolve(cached.value);
    inFlight ??= read().then(
      (value) => {
        cached = { value, at: now() };
        inFlight = undefined;
        return value;
      },
      (error: unknown) => {
        inFlight = undefined;
        throw error;
      },
    );
    return inFlight;
  };
}
