import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Bounds for a hang, not expectations of speed: a busy 2-core machine must still pass.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real servers and databases per file: a little parallelism, not a stampede on 2 cores.
    maxWorkers: 2,
    // The JSON report is what .ci/run counts from.
    reporters: ["default", "json"],
    outputFile: { json: "test-artifacts/vitest-report.json" },
  },
});
