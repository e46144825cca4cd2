/** The drivers' side of the JSON-lines protocol of bench/lib/driver.ts. */

/** The config the orchestrator passed in BENCH_DRIVER_CONFIG. */
export function driverConfig<T>(): T {
  const raw = process.env.BENCH_DRIVER_CONFIG;
  if (!raw) throw new Error("BENCH_DRIVER_CONFIG is not set: drivers are started by bench/run.ts");
  return JSON.parse(raw) as T;
}

/**
 * Prints one event line. Resolves once the line is handed to the pipe: a driver that exits right
 * after a large result must wait for it, or the orchestrator reads half a line.
 */
export function emit(event: string, fields: Record<string, unknown> = {}): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`, () => resolve()));
}

/** Runs the driver's main, reporting a crash as an `error` event instead of a stack on stderr only. */
export function runDriver(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    void emit("error", { message: error instanceof Error ? error.stack ?? error.message : String(error) });
    process.exitCode = 1;
  });
}
