import { tempDir, uniqueDatabasePrefix, mysqlUrl } from "../support/dialects.ts";
import { startTcpProxy, throughProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import type { FakeComfy } from "../fake-comfy/index.ts";
import { expect } from "vitest";

/** Fresh MySQL databases reached through a proxy the test can cut: the database "stops" for the gateway. */
export async function mysqlBehindProxy(): Promise<{ proxy: TcpProxy; data: { env: Record<string, string>; cleanup(): void } }> {
  const target = new URL(mysqlUrl!);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 3306) });
  const dir = tempDir();
  const env = { DATA_DIR: dir.dir, DATABASE_URL: throughProxy(mysqlUrl!, proxy), DATABASE_PREFIX: uniqueDatabasePrefix() };
  return { proxy, data: { env, cleanup: dir.cleanup } };
}

/** Waits until the fake has nothing queued or running (GET /prompt is neither a queue nor a history read). */
export async function drained(fake: FakeComfy): Promise<void> {
  await expect
    .poll(async () => ((await (await fetch(`${fake.url}/prompt`)).json()) as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining, {
      timeout: 20_000,
      interval: 20,
    })
    .toBe(0);
}
