import type { ServerOptions } from "node:http";
import type { Limits } from "../config/limits.ts";

/**
 * Node's HTTP timeouts from the limits: a client gets HEADERS_TIMEOUT_MS to send its headers and
 * REQUEST_TIMEOUT_MS for the whole request (Node's default was 300 s, so slow uploads held a
 * connection and its buffers for five minutes). Node checks them every `connectionsCheckingInterval`.
 */
export function nodeServerOptions(limits: Limits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
}
