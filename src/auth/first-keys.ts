import type { AuthConfig } from "../config/config.ts";
import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Logger } from "../lib/logger.ts";
import { readAdminKeys } from "./admin-keys.ts";
import { createAdminKey, createFrontendKey } from "./key-admin.ts";

/**
 * Zero setup, safe by default: on a start with no key anywhere (no ADMIN_KEY, no API_KEYS, no admin
 * key file, no key in any frontend database) it makes an admin key and one key per frontend, and
 * hands them to `print` once; this is the only place a key is ever shown after it is made. With
 * a database down it makes nothing (a later start will), so keys are never made twice.
 */
export async function createFirstKeys(
  options: { auth: AuthConfig; dataDir: string; controllers: ReadonlyMap<string, BaseDBController>; logger: Logger },
  print: (text: string) => void,
): Promise<boolean> {
  const { auth, dataDir, controllers, logger } = options;
  if (!auth.enabled || auth.adminKey || auth.envKeys.length > 0 || readAdminKeys(dataDir).length > 0) return false;
  try {
    for (const controller of controllers.values()) {
      await controller.ready();
      if ((await controller.keys.listApiKeys()).length > 0) return false;
    }
  } catch (error) {
    logger.warn("first keys not made: a frontend database is not answering", { error: String(error) });
    return false;
  }
  const admin = createAdminKey(dataDir, "first start");
  const lines = [
    "",
    "==================== aipack: first start, keys made (shown only this once) ====================",
    `admin (GET /api/servers details, ?refresh=1):  ${admin.key}`,
  ];
  for (const controller of controllers.values()) {
    const made = await createFrontendKey(controller, "first start");
    lines.push(`${controller.frontend} (its backend: POST /api/users, POST /api/tokens, tasks for any of its users):  ${made.key}`);
  }
  lines.push(
    "Keep them secret; they are stored hashed and cannot be shown again.",
    "More, rotation and revocation:  npm run keys -- create --frontend <name> | create --admin | list | revoke <id>",
    "===============================================================================================",
    "",
  );
  print(lines.join("\n"));
  logger.info("first keys made", { admin: admin.id, frontends: [...controllers.keys()] });
  return true;
}
