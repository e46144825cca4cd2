// Mutation testing of the modules where a silent bug costs users most. Slow on two cores, so not
// in CI: `npm run test:mutation` (incremental: a rerun tests only mutants whose code or tests
// changed), or one module: `npm run test:mutation -- --mutate src/tasks/reconciler.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.stryker.config.ts", related: true },
  coverageAnalysis: "perTest",
  mutate: [
    // task life cycle
    "src/tasks/task-finisher.ts",
    "src/tasks/live-task.ts",
    "src/tasks/task-lifecycle.ts",
    "src/tasks/reconciler.ts",
    "src/tasks/task-submitter.ts",
    "src/tasks/upstream-watch.ts",
    "src/tasks/upstream-events.ts",
    // queue position
    "src/tasks/task-service.ts",
    "src/lib/coalesced-reader.ts",
    "src/comfy/prompt-place.ts",
    // gateway queue
    "src/tasks/dispatcher.ts",
    "src/tasks/fair-order.ts",
    "src/tasks/queue-head.ts",
    "src/tasks/prepared-rebalance.ts",
    "src/tasks/unservable-tasks.ts",
    // pool and scheduler
    "src/pool/scheduler.ts",
    "src/pool/server-record.ts",
    // ComfyUI client and event stream
    "src/comfy/comfy-client.ts",
    "src/comfy/event-stream.ts",
    "src/comfy/frame-decoder.ts",
    // upload checks
    "src/upload/image-kinds.ts",
    "src/upload/image-file-schema.ts",
    // realtime relay
    "src/realtime/redis-relay.ts",
    "src/realtime/task-hub.ts",
    // auth and limits
    "src/auth/*.ts",
    "src/limits/*.ts",
  ],
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 20_000,
  // The first run is the in-process suite with per-test coverage: minutes on two busy cores.
  dryRunTimeoutMinutes: 45,
  timeoutFactor: 2,
  incremental: true,
  // Gitignored: it records results for this tree only, and would conflict on every merge.
  incrementalFile: "test-artifacts/stryker/incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "test-artifacts/stryker/mutation.html" },
  jsonReporter: { fileName: "test-artifacts/stryker/mutation.json" },
  tempDirName: ".stryker-tmp",
  // Reports and build output are not copied into the sandbox (thousands of coverage files).
  ignorePatterns: ["test-artifacts", "dist", "data", "bench/out", ".tmp-prof"],
  cleanTempDir: "always",
};
