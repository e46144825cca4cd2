import type { ServerOptions } from "node:http";
import type { Limits } from "../config/limits.ts";

/**
 * Node's HTTP timeouts from the limits: a client gets HEADERS_TIMEOUT_MS to send its headers and
 * REQUEST_TIMEOUT_MS for the whole request (Node's default was 300 s, so slow uploads held a
 * connection and its buffers for five minutes). Node checks them every `connectionsCheckingInterval`.
 * An idle keep-alive connection stays KEEP_ALIVE_TIMEOUT_MS (longer than clients' and proxies' own).
 */
export function nodeServerOptions(limits: Limits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
}
