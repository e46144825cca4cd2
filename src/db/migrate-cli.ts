import { buildDeps } from "../server/build-deps.ts";
import { loadConfigOrExit } from "../server/load-config.ts";

// `npm run db:migrate`: creates and migrates every enabled frontend's database, then exits.
const built = buildDeps(loadConfigOrExit());
let failed = false;
for (const [frontend, controller] of built.deps.controllers) {
  try {
    await controller.ready();
    console.log(`${frontend}: migrated ${controller.label}`);
  } catch (error) {
    failed = true;
    console.error(`${frontend}: migration failed for ${controller.label}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
await built.close();
process.exit(failed ? 1 : 0);
