import { defineConfig } from "vitest/config";

// STRYKER_TESTS (comma-separated globs) narrows the tests of one run to those aimed at its modules:
// the first run is then shorter on two cores, and the score a lower bound (fewer tests can kill).
const narrowed = process.env.STRYKER_TESTS?.split(",").filter((glob) => glob !== "");

/**
 * The tests Stryker runs against each mutant: in-process ones only (a spawned gateway, Bun or a
 * browser does not run the mutated code), on SQLite only (the MySQL cases repeat the same paths).
 */
export default defineConfig({
  test: {
    include: narrowed?.length ? narrowed : ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["test/smoke/**", "test/page/**", "test/db/**", "test/config/**", "**/node_modules/**"],
    globalSetup: ["test/global-setup.ts"],
    env: { AIPACK_TEST_DIALECTS: "sqlite" },
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
