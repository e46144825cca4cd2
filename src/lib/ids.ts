import { randomBytes } from "node:crypto";

/** A random, unguessable, URL-safe id (128 bits): used for users, tasks and storage keys. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString("base64url");
}
