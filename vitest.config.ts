import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real servers and databases per file: a little parallelism, not a stampede on 2 cores.
    maxWorkers: 2,
    // The JSON report is what .ci/run counts from.
    reporters: ["default", "json"],
    outputFile: { json: "test-artifacts/vitest-report.json" },
  },
});
