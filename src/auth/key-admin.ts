import type { BaseDBController } from "../controllers/base-db-controller.ts";
import { readAdminKeys, writeAdminKeys } from "./admin-keys.ts";
import { adminScope, generateKey } from "../lib/key-format.ts";

// Creating, listing and revoking keys: shared by `npm run keys` and the first start. Only a
// key's id, label and dates are ever shown again after it is created.

export interface KeyListing {
  scope: string;
  id: string;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A new key of one frontend, stored hashed in its database; the key is returned once. */
export async function createFrontendKey(controller: BaseDBController, label?: string): Promise<{ id: string; key: string }> {
  await controller.ready();
  const { key, id, hash } = generateKey(controller.frontend);
  await controller.keys.addApiKey({ id, hash, label: label ?? null });
  return { id, key };
}

/** A new admin key, stored hashed in DATA_DIR/auth/admin-keys.json; the key is returned once. */
export function createAdminKey(dataDir: string, label?: string, now = new Date()): { id: string; key: string } {
  const { key, id, hash } = generateKey(adminScope);
  writeAdminKeys(dataDir, [...readAdminKeys(dataDir), { id, hash, label: label ?? null, createdAt: now.toISOString(), revokedAt: null }]);
  return { id, key };
}

export async function listKeys(dataDir: string, controllers: Iterable<BaseDBController>): Promise<KeyListing[]> {
  const listing: KeyListing[] = readAdminKeys(dataDir).map((record) => ({
    scope: adminScope,
    id: record.id,
    label: record.label,
    createdAt: new Date(record.createdAt),
    revokedAt: record.revokedAt ? new Date(record.revokedAt) : null,
  }));
  for (const controller of controllers) {
    await controller.ready();
    for (const row of await controller.keys.listApiKeys()) {
      listing.push({ scope: controller.frontend, id: row.id, label: row.label, createdAt: row.createdAt, revokedAt: row.revokedAt });
    }
  }
  return listing;
}

/** Revokes the key with this id wherever it lives; false when no key has it. */
export async function revokeKey(dataDir: string, controllers: Iterable<BaseDBController>, id: string, now = new Date()): Promise<boolean> {
  const admins = readAdminKeys(dataDir);
  const admin = admins.find((record) => record.id === id);
  if (admin) {
    admin.revokedAt ??= now.toISOString();
    writeAdminKeys(dataDir, admins);
    return true;
  }
  for (const controller of controllers) {
    await controller.ready();
    if (await controller.keys.revokeApiKey(id)) return true;
  }
  return false;
}
