import type { FakeComfyOptions } from "../../test/fake-comfy/index.ts";
import { startFakes, type Fakes } from "../lib/fakes.ts";
import { startGateway, type Db, type Gateway, type Runtime } from "../lib/gateway.ts";
import type { Metric } from "../lib/table.ts";

/** What every scenario gets from the orchestrator. */
export interface ScenarioContext {
  runtime: Runtime;
  /** Every runtime of the run (a `once` scenario compares them itself). */
  runtimes: Runtime[];
  db: Db;
  quick: boolean;
  /** Progress line on the console. */
  log(line: string): void;
  /** A remark kept for RESULTS.md (status codes of errors, gateway warnings...). */
  note(line: string): void;
  /** A table of the scenario's own shape (markdown), printed and written to RESULTS.md after the main ones. */
  table(markdown: string): void;
}

export interface Scenario {
  key: string;
  title: string;
  /**
   * Run once for the whole bench instead of once per runtime: the scenario compares targets side
   * by side in one run (alternating them) and prints its own table via `ctx.table`.
   */
  once?: boolean;
  run(ctx: ScenarioContext): Promise<Metric[]>;
}

/** A metric factory bound to one scenario's title (and optionally a table group). */
export function metricsOf(scenario: string, group?: string) {
  return (name: string, value: number, unit: string, display?: string): Metric => ({
    scenario,
    name,
    value,
    unit,
    ...(display === undefined ? {} : { display }),
    ...(group === undefined ? {} : { group }),
  });
}

/**
 * Runs `work` against fresh fakes and a fresh gateway (so no scenario inherits another's queue,
 * rows or heap), stops both whatever happens, and notes any warning the gateway logged meanwhile.
 */
export async function withStack<T>(
  ctx: ScenarioContext,
  title: string,
  fakeOptions: Partial<FakeComfyOptions>,
  work: (stack: { fakes: Fakes; gateway: Gateway }) => Promise<T>,
  gatewayEnv: Record<string, string> = {},
): Promise<T> {
  const fakes = await startFakes(2, fakeOptions);
  try {
    const gateway = await startGateway({ runtime: ctx.runtime, db: ctx.db, comfyUrls: fakes.urls, env: gatewayEnv });
    try {
      return await work({ fakes, gateway });
    } finally {
      const problems = gateway.problems();
      if (problems.count > 0) {
        ctx.note(`${title} on ${ctx.runtime}: the gateway logged ${problems.count} warn/error lines; last: ${problems.last.at(-1) ?? ""}`);
      }
      await gateway.stop();
    }
  } finally {
    await fakes.stop();
  }
}
