import { describe, expect, it } from "vitest";
import type { BaseDBController } from "../../src/controllers/base-db-controller.ts";
import { QueueHead } from "../../src/tasks/queue-head.ts";
import type { WaitingRow } from "../../src/tasks/queue-order.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, taskContextOf } from "../support/test-gateway.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

/** The dispatcher's QueueHead over a gateway's real databases (both frontends), and what it logs and counts. */
async function headOver(weights: Record<string, number> = {}, pageSize = 1) {
  const gateway = await createTestGateway(sqlite);
  const { deps, logger } = gateway;
  const ctx = taskContextOf(gateway);
  const style = deps.controllers.get("style")!;
  const logo = deps.controllers.get("logo")!;
  await Promise.all([style.ready(), logo.ready()]);
  const rowsRead = async (frontend: string) =>
    (await deps.metrics.dispatchRowsRead.get()).values.filter((sample) => sample.labels.frontend === frontend).reduce((sum, sample) => sum + sample.value, 0);
  return { head: new QueueHead(ctx, weights, pageSize), style, logo, logger, rowsRead };
}

/** A waiting task (no server yet) of one user, at this round and submit sequence. */
function waitingRow(db: BaseDBController, id: string, round: number, seq: number, serverId: string | null = null) {
  return db.createTask({ id, userId: "head-reads", workflow: "invert", params: {}, status: "queued", outputUrls: [], priority: 0, queueRound: round, queueSeq: seq, serverId });
}

/** style s0..s4 at seq 10, 12, … and logo l0..l2 at seq 11, 13, …: each a user's next round. */
async function twoFrontends(style: BaseDBController, logo: BaseDBController) {
  for (let i = 0; i < 5; i++) await waitingRow(style, `s${i}`, i, 10 + 2 * i);
  for (let i = 0; i < 3; i++) await waitingRow(logo, `l${i}`, i, 11 + 2 * i);
}

async function ids(rows: AsyncIterable<WaitingRow>): Promise<string[]> {
  const seen: string[] = [];
  for await (const { row } of rows) seen.push(row.id);
  return seen;
}

describe("the head of the gateway's queue, read by the dispatcher", () => {
  it("read a row per frontend at a time, it gives the whole queue in the weighted fair order", async () => {
    const { head, style, logo } = await headOver({ style: 2 });
    await twoFrontends(style, logo);
    // Two style tasks per logo task; on a tie the older head task first.
    expect(await ids(head.waiting())).toEqual(["s0", "l0", "s1", "s2", "l1", "s3", "s4", "l2"]);
  });

  it("read in pages of two with equal weights, it alternates the frontends, the older head first", async () => {
    const { head, style, logo } = await headOver({}, 2);
    await twoFrontends(style, logo);
    expect(await ids(head.waiting())).toEqual(["s0", "l0", "s1", "l1", "s2", "l2", "s3", "s4"]);
  });

  it("a caller that stops after the first task has read only each frontend's first page", async () => {
    const { head, style, logo, rowsRead } = await headOver({}, 2);
    await twoFrontends(style, logo);
    for await (const first of head.waiting()) {
      expect(first.row.id).toBe("s0");
      break;
    }
    expect([await rowsRead("style"), await rowsRead("logo")]).toEqual([2, 2]);
  });

  it("reads a frontend's next page only once the order reaches the end of what was read of it", async () => {
    const { head, style, logo, rowsRead } = await headOver({ style: 2 }, 2);
    await twoFrontends(style, logo);
    const taken: string[] = [];
    for await (const { row } of head.waiting()) {
      taken.push(row.id);
      if (taken.length === 4) break;
    }
    // s0, l0, s1 came from the first pages; s2 needed style's second; logo's l1 was still unused.
    expect(taken).toEqual(["s0", "l0", "s1", "s2"]);
    expect([await rowsRead("style"), await rowsRead("logo")]).toEqual([4, 2]);
  });

  it("counts the rows it reads per frontend", async () => {
    const { head, style, logo, rowsRead } = await headOver({}, 2);
    await twoFrontends(style, logo);
    await ids(head.waiting());
    expect([await rowsRead("style"), await rowsRead("logo")]).toEqual([5, 3]);
  });

  it("a frontend whose database cannot be read is left out: the other's tasks still come, and the failure is logged", async () => {
    const { head, style, logo, logger } = await headOver({}, 2);
    await twoFrontends(style, logo);
    await logo.close();
    expect(await ids(head.waiting())).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    expect(logger.entries).toContainEqual({
      level: "warn",
      message: "dispatcher: cannot read a frontend's waiting tasks",
      fields: { frontend: "logo", error: expect.any(String) },
    });
  });

  it("the tasks prepared on servers are read from every frontend, the waiting ones not", async () => {
    const { head, style, logo } = await headOver();
    await twoFrontends(style, logo);
    await waitingRow(style, "style-on-gpu", 0, 1, "gpu1");
    await waitingRow(logo, "logo-on-gpu", 0, 2, "gpu2");
    const prepared = await head.prepared();
    expect(prepared.map(({ frontend, row }) => `${frontend}/${row.id}`).sort()).toEqual(["logo/logo-on-gpu", "style/style-on-gpu"]);
  });

  it("prepared tasks of a frontend whose database cannot be read are left out, and the failure is logged", async () => {
    const { head, style, logo, logger } = await headOver();
    await waitingRow(style, "style-on-gpu", 0, 1, "gpu1");
    await logo.close();
    expect((await head.prepared()).map(({ row }) => row.id)).toEqual(["style-on-gpu"]);
    expect(logger.entries).toContainEqual({
      level: "warn",
      message: "dispatcher: cannot read a frontend's prepared tasks",
      fields: { frontend: "logo", error: expect.any(String) },
    });
  });
});
