/**
 * A check whose outcome (success or failure) is reused for `ttlMs`, and whose concurrent callers
 * share one run: readiness probes hit it every few seconds, a probe write should not follow each.
 */
export function cachedCheck(check: () => Promise<void>, ttlMs: number, now: () => number = Date.now): () => Promise<void> {
  let last: { at: number; outcome: Promise<void> } | null = null;
  return function runCachedCheck() {
    if (last && now() - last.at < ttlMs) return last.outcome;
    const outcome = check();
    // A rejection is read by whoever awaits it; the cached copy must not count as unhandled.
    outcome.catch(() => undefined);
    last = { at: now(), outcome };
    return outcome;
  };
}
