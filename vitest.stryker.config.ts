import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against each mutant: in-process ones only (a spawned gateway, Bun or a
 * browser does not run the mutated code), on SQLite only (the MySQL cases repeat the same paths).
 */
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["test/smoke/**", "test/page/**", "test/db/**", "test/config/**", "**/node_modules/**"],
    globalSetup: ["test/global-setup.ts"],
    env: { AIPACK_TEST_DIALECTS: "sqlite" },
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
