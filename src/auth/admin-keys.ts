import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

// Admin keys made by `npm run keys` or the first start live (hashed) in DATA_DIR/auth/admin-keys.json:
// the operator's credential is not any one frontend's, so it is kept outside their databases.
// Replicas that do not share DATA_DIR get theirs from ADMIN_KEY.

const fileSchema = z.object({
  keys: z.array(z.object({ id: z.string(), hash: z.string(), label: z.string().nullable(), createdAt: z.string(), revokedAt: z.string().nullable() })),
});
export type AdminKeyRecord = z.infer<typeof fileSchema>["keys"][number];

export function adminKeysFile(dataDir: string): string {
  return path.join(dataDir, "auth", "admin-keys.json");
}

export function readAdminKeys(dataDir: string): AdminKeyRecord[] {
  let text: string;
  try {
    text = readFileSync(adminKeysFile(dataDir), "utf8");
  } catch {
    return [];
  }
  return fileSchema.parse(JSON.parse(text)).keys;
}

export function writeAdminKeys(dataDir: string, keys: AdminKeyRecord[]): void {
  const file = adminKeysFile(dataDir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
}
