import type { Context } from "hono";
import type { GetConnInfo } from "hono/conninfo";
import type { AppEnv } from "./app-env.ts";

/**
 * The client's address: the connection's peer, or, when that peer is one of `trustedProxies`, the
 * right-most X-Forwarded-For entry that is not a trusted proxy. Without trusted proxies the header
 * is ignored (anyone can send it). Unknown (in-process requests): "unknown".
 */
export function clientAddress(c: Context<AppEnv>, getConnInfo: GetConnInfo | undefined, trustedProxies: readonly string[]): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo?.(c).remote.address;
  } catch {
    peer = undefined;
  }
  const address = normalise(peer ?? "unknown");
  if (trustedProxies.length === 0 || !trustedProxies.includes(address)) return address;
  const hops = (c.req.header("x-forwarded-for") ?? "").split(",").map((hop) => normalise(hop.trim())).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trustedProxies.includes(hops[i]!)) return hops[i]!;
  return address;
}

/** "::ffff:127.0.0.1" and "127.0.0.1" are one client. */
function normalise(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
