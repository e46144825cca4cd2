import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { generateKey } from "../../src/lib/key-format.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTcpProxy, throughProxy } from "../support/tcp-proxy.ts";
import { startTestServer } from "../support/test-server.ts";

// Rate limits with REDIS_URL: one budget per caller across every replica, kept in Redis. Each test
// spends the budget of a frontend key of its own (a fresh id), so tests sharing the Redis server
// never spend each other's.

const redisUrl = inject("redisUrl");
const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

/**
 * `count` replicas sharing one Redis (a channel of their own) and one API_KEYS key, with budgets of
 * 2; each has its counters in Redis (or, with `shared: false`, is not waited for).
 */
async function replicas(count: number, url = redisUrl!, shared = true) {
  const { key } = generateKey("style");
  const env = { REDIS_URL: url, REDIS_CHANNEL: `aipack-test:${randomUUID()}`, API_KEYS: key, RATE_OTHER_PER_MINUTE: "2", RATE_POLLS_PER_MINUTE: "2" };
  const gateways: Array<Awaited<ReturnType<typeof startTestServer>>> = [];
  for (let i = 0; i < count; i++) gateways.push(await startTestServer(sqlite, env));
  if (shared) await Promise.all(gateways.map((gateway) => gateway.deps.rateLimits.ready));
  const headers = { authorization: `Bearer ${key}` };
  const other = (i: number) => fetch(`${gateways[i]!.url}/api/workflows?frontend=style`, { headers });
  const poll = (i: number) => fetch(`${gateways[i]!.url}/api/queue?frontend=style&taskId=nope`, { headers });
  return { gateways, other, poll };
}

describe.skipIf(redisUrl === null)("rate limits with REDIS_URL", () => {
  it("two replicas spend one budget: the caller's third request is refused by whichever replica gets it", async () => {
    const { other } = await replicas(2);
    expect((await other(0)).status).toBe(200);
    expect((await other(1)).status).toBe(200);
    const refused = await other(0);
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe("rate_limited");
  });

  it("keeps polls on their own budget in Redis", async () => {
    const { other, poll } = await replicas(1);
    expect([(await other(0)).status, (await other(0)).status, (await other(0)).status]).toEqual([200, 200, 429]);
    expect((await poll(0)).status).toBe(404);
  });

  describe("while Redis is away", () => {
    async function replicaCut() {
      const target = new URL(redisUrl!);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
      const world = await replicas(1, throughProxy(redisUrl!, proxy), false);
      proxy.cut();
      const logger = world.gateways[0]!.logger;
      await expect.poll(() => logger.entries.some((entry) => entry.message === "rate-limit redis error")).toBe(true);
      return { ...world, logger };
    }

    it("the log says why, with Redis's error", async () => {
      const { logger } = await replicaCut();
      const warning = logger.entries.find((entry) => entry.message === "rate-limit redis error");
      expect(warning).toMatchObject({ level: "warn", fields: { error: expect.stringMatching(/\S/) } });
    });

    it("each replica still limits, with its own counter in memory", async () => {
      const { other } = await replicaCut();
      expect([(await other(0)).status, (await other(0)).status, (await other(0)).status]).toEqual([200, 200, 429]);
    });
  });
});
