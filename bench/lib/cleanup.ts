import { killAll } from "./processes.ts";

// What must happen whatever way the run ends (a scenario throws, Ctrl-C): stop gateways (which
// drops their MySQL databases and temp dirs) and fakes, then kill whatever child is left.
const cleanups = new Set<() => Promise<void>>();

/** Registers a cleanup; call the returned function to run it now (and only once). */
export function deferCleanup(cleanup: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => (done ??= cleanup().finally(() => cleanups.delete(once)));
  cleanups.add(once);
  return once;
}

/** Runs every pending cleanup (at most `timeoutMs`), then kills any child still alive. */
export async function cleanupAll(timeoutMs = 10_000): Promise<void> {
  const all = Promise.allSettled([...cleanups].map((cleanup) => cleanup()));
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  killAll();
}
