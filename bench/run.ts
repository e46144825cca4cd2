import { execFileSync } from "node:child_process";
import path from "node:path";
import { cleanupAll } from "./lib/cleanup.ts";
import { root, type Db, type Runtime } from "./lib/gateway.ts";
import { machineInfo } from "./lib/machine.ts";
import { writeReport } from "./lib/report.ts";
import { renderTables, type Outcomes } from "./lib/table.ts";
import { memoryScenario } from "./scenarios/memory.ts";
import { progressScenario } from "./scenarios/progress.ts";
import { queuePollScenario } from "./scenarios/queue-poll.ts";
import type { Scenario } from "./scenarios/scenario.ts";
import { submitScenario } from "./scenarios/submit.ts";
import { schedulingScenario } from "./scenarios/scheduling.ts";
import { submitLimitsScenario } from "./scenarios/submit-limits.ts";

const usage = `npm run bench -- [--quick] [--db=sqlite|mysql] [--runtime=node|bun|both] [--only=submit,submit-limits,poll,progress,memory,scheduling]`;
const scenarios: Scenario[] = [submitScenario, submitLimitsScenario, queuePollScenario, progressScenario, memoryScenario, schedulingScenario];

interface Args {
  quick: boolean;
  db: Db;
  runtimes: Runtime[];
  only: Scenario[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, db: "sqlite", runtimes: ["node", "bun"], only: scenarios };
  for (const arg of argv) {
    const [flag, value] = arg.split("=", 2);
    if (flag === "--quick") args.quick = true;
    else if (flag === "--db" && (value === "sqlite" || value === "mysql")) args.db = value;
    else if (flag === "--runtime" && (value === "node" || value === "bun")) args.runtimes = [value];
    else if (flag === "--runtime" && value === "both") args.runtimes = ["node", "bun"];
    else if (flag === "--only" && value) {
      const keys = value.split(",");
      args.only = scenarios.filter((s) => keys.includes(s.key));
      if (args.only.length !== keys.length) fail(`unknown scenario in ${value}`);
    } else fail(`unknown argument ${arg}`);
  }
  return args;
}

function fail(message: string): never {
  console.error(`bench: ${message}\nusage: ${usage}`);
  process.exit(2);
}

// Ctrl-C or a kill still stops every gateway, driver and fake (and drops MySQL databases).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

const args = parseArgs(process.argv.slice(2));
const started = performance.now();
// On Node the gateway runs as in production, from dist/: built now so it is the current sources.
if (args.runtimes.includes("node")) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
const machine = machineInfo();
const outcomes: Outcomes = {};
const notes: string[] = [];
console.log(`bench: ${args.quick ? "quick" : "full"} run, db ${args.db}, runtimes ${args.runtimes.join(" + ")} (node ${machine.node}, bun ${machine.bun})`);
const tables: string[] = [];
const runScenario = async (scenario: Scenario, runtime: Runtime, label: string) => {
  const outcome = (outcomes[runtime] ??= { metrics: [], failures: [] });
  const t0 = performance.now();
  console.log(`[${label}] ${scenario.title}`);
  try {
    const ctx = {
      runtime,
      runtimes: args.runtimes,
      db: args.db,
      quick: args.quick,
      log: (line: string) => console.log(`[${label}] ${line}`),
      note: (line: string) => notes.push(line),
      table: (markdown: string) => tables.push(markdown),
    };
    outcome.metrics.push(...(await scenario.run(ctx)));
  } catch (error) {
    // A failed scenario becomes a row with its error; the others still run.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[${label}] ${scenario.title} FAILED: ${message}`);
    outcome.failures.push({ scenario: scenario.title, message });
  } finally {
    await cleanupAll();
  }
  console.log(`[${label}] ${scenario.title}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
};
try {
  // Side-by-side scenarios first (they start every runtime themselves), then the per-runtime ones.
  for (const scenario of args.only.filter((s) => s.once)) await runScenario(scenario, args.runtimes[0]!, args.runtimes.join("+"));
  for (const runtime of args.runtimes) {
    for (const scenario of args.only.filter((s) => !s.once)) await runScenario(scenario, runtime, runtime);
  }
} finally {
  await cleanupAll();
}
const file = path.join(root, "bench", args.quick ? "RESULTS.quick.md" : "RESULTS.md");
const settings = { quick: args.quick, db: args.db, runtimes: args.runtimes, scenarios: args.only.map((s) => s.key), wallSeconds: (performance.now() - started) / 1000 };
console.log(`\n${tables.join("\n")}\n${renderTables(outcomes)}`);
for (const note of notes) console.log(`note: ${note}`);
writeReport(file, machine, settings, outcomes, notes, tables);
console.log(`bench: wrote ${path.relative(root, file)} in ${settings.wallSeconds.toFixed(0)} s`);
// Fakes' timers (jobs sleeping in nodeDelayMs) would otherwise keep the process alive.
// A scenario that failed is in the table as an error row; the exit code says so too.
const failed = Object.values(outcomes).some((outcome) => outcome.failures.length > 0);
process.exit(failed ? 1 : 0);
