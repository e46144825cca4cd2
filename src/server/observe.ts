import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ComfyPool, PoolEvent } from "../pool/server-pool.ts";
import type { SocketRegistry } from "../realtime/socket-registry.ts";

/** One log line and the matching counters per pool state change: what an operator alerts on. */
export function poolEventObserver(logger: Logger, metrics: Metrics): (event: PoolEvent) => void {
  return function observePoolEvent(event) {
    switch (event.type) {
      case "server-up":
        metrics.serverStateChanges.inc({ server: event.server, state: "up" });
        return logger.info("comfy server up", { server: event.server, latencyMs: event.latencyMs });
      case "server-down":
        metrics.serverStateChanges.inc({ server: event.server, state: "down" });
        return logger.warn("comfy server down", {
          server: event.server,
          failedCheck: event.failedCheck,
          error: event.error,
          consecutiveFailures: event.consecutiveFailures,
        });
      case "stream-lost":
        return logger.warn("comfy stream lost", { server: event.server, reason: event.reason });
      case "stream-back":
        metrics.streamReconnects.inc({ server: event.server });
        return logger.info("comfy stream reconnected", { server: event.server, downMs: event.downMs });
    }
  };
}

/** Fills the gauges that mirror live state (servers, sockets) just before each scrape. */
export function collectLiveGauges(metrics: Metrics, pool: ComfyPool, sockets: SocketRegistry): void {
  metrics.onCollect(() => {
    for (const server of pool.snapshot().servers) {
      const labels = { server: server.id };
      metrics.serverUp.set(labels, server.healthy ? 1 : 0);
      const queue = server.queue === null ? 0 : server.queue.running + server.queue.pending;
      metrics.serverQueue.set(labels, queue + server.localPending);
      if (server.latencyMs !== null) metrics.serverLatency.set(labels, server.latencyMs / 1000);
    }
    metrics.wsConnections.set(sockets.size);
  });
}
