import { it } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway } from "../support/test-gateway.ts";
it("dbg2", async () => {
  const { deps } = await createTestGateway(dialectCases[0]!);
  const db = deps.controllers.get("logo")!;
  await db.ready();
  try { console.log(await db.countActiveByServer()); } catch (e) { console.log("ERR", (e as any).cause ?? e); }
  try { console.log(await db.listQueuedTasks(5)); } catch (e) { console.log("ERR", (e as any).cause ?? e); }
});
