/**
 * Runs `work` every `intervalMs` (± `jitterRatio`, so replicas started together do not sweep in
 * step), never two runs at once, until stopped. A run that throws is reported and the loop goes
 * on: a background sweep must outlive the outage it is there to repair.
 */
export class JitteredLoop {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly options: { intervalMs: number; jitterRatio?: number; random?: () => number; onError: (error: unknown) => void },
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Runs now (joining a run in progress) instead of waiting for the next tick. */
  runNow(): Promise<void> {
    this.running ??= this.work()
      .catch(this.options.onError)
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const jitter = this.options.jitterRatio ?? 0.2;
    const delay = this.options.intervalMs * (1 + jitter * (2 * (this.options.random ?? Math.random)() - 1));
    this.timer = setTimeout(() => {
      void this.runNow().finally(() => {
        if (!this.stopped) this.schedule();
      });
    }, delay);
    this.timer.unref?.();
  }
}
