import type { AppDeps } from "../middleware/app-deps.ts";

/**
 * How rows refer to things clients may not see directly: a user's upload becomes an expiring
 * signed URL (for its owner), a server id becomes the server's public name (never host:port).
 */
export interface PublicRefs {
  inputUrl(url: string): string | null;
  serverName(id: string | null): string | null;
}

export function publicRefs(deps: Pick<AppDeps, "storage" | "pool" | "inputUrlTtlSeconds">): PublicRefs {
  return {
    inputUrl: (url) => deps.storage.privateUrl(url, deps.inputUrlTtlSeconds),
    serverName: (id) => deps.pool.publicName(id),
  };
}
