import { describe, expect, it } from "vitest";
import { parseFrontendWeights } from "../lib/frontend-weights.ts";
import { fairOrder, type WaitingTask } from "./fair-order.ts";

let seq = 0;
const rounds = new Map<string, number>();
/**
 * Tasks submitted in the order given, none dispatched yet: `style/ann` is one task of user ann on
 * style; each of a user's tasks takes the next round, as the controller gives it.
 */
function submitted(...specs: string[]): WaitingTask[] {
  return specs.map((spec) => {
    const [frontend, userId, priority] = spec.split("/");
    seq += 1;
    const round = rounds.get(`${frontend}/${userId}`) ?? 0;
    rounds.set(`${frontend}/${userId}`, round + 1);
    return { frontend: frontend!, userId: userId!, priority: Number(priority ?? 0), seq, round, id: `t${seq}` };
  });
}
const names = (tasks: WaitingTask[]) => tasks.map((t) => `${t.frontend}/${t.userId}`);

describe("the gateway's fair queue order", () => {
  it("keeps a user's rounds: a light user's task joins the round being served, ahead of the heavy user's later rounds", () => {
    const heavy = [0, 1, 2, 3].map((round) => ({ frontend: "style", userId: "heavy2", priority: 0, seq: 100 + round, round, id: `h${round}` }));
    // heavy's round 0 left for a server; light submits later and joins round 1, the one now waiting.
    const light = { frontend: "style", userId: "light2", priority: 0, seq: 200, round: 1, id: "l" };
    expect(fairOrder([...heavy.slice(1), light]).map((t) => t.id)).toEqual(["h1", "l", "h2", "h3"]);
  });

  it("round-robins across the users of one frontend, FIFO within each user", () => {
    const tasks = submitted("style/heavy", "style/heavy", "style/heavy", "style/light", "style/other");
    expect(names(fairOrder(tasks))).toEqual(["style/heavy", "style/light", "style/other", "style/heavy", "style/heavy"]);
    const heavy = fairOrder(tasks).filter((t) => t.userId === "heavy").map((t) => t.seq);
    expect(heavy).toEqual([...heavy].sort((a, b) => a - b));
  });

  it("puts a light user's first task within one round of a heavy user's hundred", () => {
    const tasks = [...submitted(...Array.from({ length: 100 }, () => "style/heavy100")), ...submitted("style/light100")];
    expect(fairOrder(tasks).findIndex((t) => t.userId === "light100")).toBe(1);
  });

  it("interleaves frontends by their weights", () => {
    const tasks = [...submitted("logo/a", "logo/a", "logo/a"), ...submitted("style/b", "style/b", "style/b", "style/b")];
    expect(names(fairOrder(tasks, { style: 2, logo: 1 }))).toEqual(["style/b", "logo/a", "style/b", "style/b", "logo/a", "style/b", "logo/a"]);
  });

  it("lets a priority reorder its own frontend's tasks only", () => {
    const tasks = submitted("style/a", "style/b", "logo/c", "style/d/5");
    // d jumps a and b on style; logo's turn is untouched (its older head wins the tie of turns).
    expect(names(fairOrder(tasks))).toEqual(["logo/c", "style/d", "style/a", "style/b"]);
  });

  it("is deterministic whatever order the tasks are listed in", () => {
    const tasks = submitted("style/a", "logo/b", "style/c", "style/a", "logo/b");
    expect(fairOrder([...tasks].reverse(), { logo: 3 })).toEqual(fairOrder(tasks, { logo: 3 }));
  });

  it("breaks a tie of submit sequence by task id, whatever order the tasks are listed in", () => {
    const task = (id: string) => ({ frontend: "style", userId: id, priority: 0, seq: 7, round: 0, id });
    expect(fairOrder([task("b"), task("a"), task("c")]).map((t) => t.id)).toEqual(["a", "b", "c"]);
    expect(fairOrder([task("c"), task("a"), task("b")]).map((t) => t.id)).toEqual(["a", "b", "c"]);
  });

  it("gives a tie of turns between frontends to the head with the lower id when their sequences tie", () => {
    // Each frontend numbers its own submits: two heads can share a sequence.
    // The lower id is on the frontend whose name sorts last: the id decides, not the name.
    const style = { frontend: "style", userId: "s", priority: 0, seq: 3, round: 0, id: "a" };
    const logo = { frontend: "logo", userId: "l", priority: 0, seq: 3, round: 0, id: "b" };
    expect(fairOrder([style, logo]).map((t) => t.frontend)).toEqual(["style", "logo"]);
    expect(fairOrder([logo, style]).map((t) => t.frontend)).toEqual(["style", "logo"]);
  });

  it("gives a tie of turns, sequence and id to the frontend whose name sorts first", () => {
    const task = (frontend: string) => ({ frontend, userId: "u", priority: 0, seq: 3, round: 0, id: "same" });
    expect(fairOrder([task("style"), task("logo")]).map((t) => t.frontend)).toEqual(["logo", "style"]);
    expect(fairOrder([task("logo"), task("style")]).map((t) => t.frontend)).toEqual(["logo", "style"]);
  });

  it("orders the tasks of a frontend whose weight is so small that its turns overflow to Infinity", () => {
    // FRONTEND_WEIGHTS accepts any decimal above 0: 1 / 5e-324 is Infinity.
    const tasks = submitted("style/tiny", "style/tiny");
    expect(fairOrder(tasks, { style: Number.MIN_VALUE })).toEqual(tasks);
  });

  it.each([
    ["style:2,logo:1", { style: 2, logo: 1 }],
    ["", {}],
  ])("reads FRONTEND_WEIGHTS %j", (value, weights) => {
    expect(parseFrontendWeights(value)).toEqual(weights);
  });

  it.each(["style", "style:0", "style:-1", "style:x"])("refuses the weight entry %j", (value) => {
    expect(() => parseFrontendWeights(value)).toThrow(/frontend:weight/);
  });
});
