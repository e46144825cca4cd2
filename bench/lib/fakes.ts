import { deferCleanup } from "./cleanup.ts";
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from "../../test/fake-comfy/index.ts";

/** The fake ComfyUI servers of one scenario, with the time each `progress` message left them. */
export interface Fakes {
  list: FakeComfy[];
  urls: string[];
  /** `${prompt_id}:${value}` → wall-clock ms (performance.timeOrigin + performance.now()). */
  progressSent: Map<string, number>;
  setOptions(patch: Partial<FakeComfyOptions>): void;
  /** Sum of one counter over every fake. */
  total(counter: keyof FakeComfy["counters"]): number;
  stop(): Promise<void>;
}

/** Wall-clock milliseconds with sub-ms resolution, comparable between processes on one machine. */
export const wallClock = () => performance.timeOrigin + performance.now();

/** Starts `count` fakes in this process (zero execution time unless told otherwise). */
export async function startFakes(count: number, options: Partial<FakeComfyOptions> = {}): Promise<Fakes> {
  const progressSent = new Map<string, number>();
  const onSend = (message: unknown) => {
    const m = message as { type?: string; data?: { prompt_id?: string; value?: number } };
    if (m.type === "progress") progressSent.set(`${m.data?.prompt_id}:${m.data?.value}`, wallClock());
  };
  const list = await Promise.all(Array.from({ length: count }, () => startFakeComfy({ msPerStep: 0, ...options, onSend })));
  return {
    list,
    urls: list.map((fake) => fake.url),
    progressSent,
    setOptions: (patch) => list.forEach((fake) => fake.setOptions(patch)),
    total: (counter) => list.reduce((sum, fake) => sum + fake.counters[counter], 0),
    stop: deferCleanup(async () => {
      // Whatever is still queued must not start after the scenario.
      list.forEach((fake) => fake.setOptions({ paused: true }));
      await Promise.all(list.map((fake) => fake.kill()));
    }),
  };
}
