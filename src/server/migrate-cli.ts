import { systemClock } from "../lib/clock.ts";
import { openControllers } from "./build-deps.ts";
import { loadConfigOrExit } from "./load-config.ts";

// `npm run db:migrate`: creates and migrates every enabled frontend's database, then exits.
const controllers = openControllers(loadConfigOrExit(), systemClock);
let failed = false;
for (const [frontend, controller] of controllers) {
  try {
    await controller.ready();
    console.log(`${frontend}: migrated ${controller.label}`);
  } catch (error) {
    failed = true;
    console.error(`${frontend}: migration failed for ${controller.label}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
await Promise.allSettled([...controllers.values()].map((controller) => controller.close()));
process.exit(failed ? 1 : 0);
