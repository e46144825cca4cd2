import { z } from "zod";
import { createLocalStorage } from "./local-storage.ts";
import { createOssStorage } from "./oss-storage.ts";
import type { Storage } from "./storage.ts";

/** Which store to use and how to reach it; the shape the config module hands over. */
export const storageConfigSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("local"),
    dir: z.string().min(1),
    // Read at each put: with PORT=0 the origin is known only once the server listens.
    publicOrigin: z.custom<{ readonly url: string }>((value) => typeof value === "object" && value !== null && "url" in value),
    minFreeBytes: z.number().int().min(0).optional(),
  }),
  z.object({
    kind: z.literal("oss"),
    region: z.string().min(1),
    // OSS naming rule; checked here so a typo fails with a field name instead of deep in ali-oss.
    bucket: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "bucket: 3-63 lowercase letters, digits or -"),
    accessKeyId: z.string().min(1),
    accessKeySecret: z.string().min(1),
    endpoint: z.string().min(1).optional(),
    publicBaseUrl: z.string().min(1).optional(),
    secure: z.boolean().optional(),
    timeoutMs: z.number().int().positive().optional(),
  }),
]);

export type StorageConfig = z.infer<typeof storageConfigSchema>;

/** Builds the configured Storage. The config is checked again here so a bad value fails at start-up. */
export function createStorage(config: StorageConfig, secrets: { urlSecret: string }): Storage {
  const parsed = storageConfigSchema.parse(config);
  return parsed.kind === "local" ? createLocalStorage({ dir: parsed.dir, publicBaseUrl: parsed.publicOrigin, minFreeBytes: parsed.minFreeBytes, urlSecret: secrets.urlSecret }) : createOssStorage(parsed);
}
