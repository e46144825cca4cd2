/** What the fair order needs to know of one task waiting in the gateway. */
export interface WaitingTask {
  frontend: string;
  userId: string;
  /** Set by a frontend key; higher first, within its own frontend only. */
  priority: number;
  /** Submit sequence: FIFO within a user, and every tie. */
  seq: number;
  /** The user's round-robin round within its frontend (see BaseDBController.nextQueueRound). */
  round: number;
  id: string;
}

/** Ascending by submit sequence, then id: the one tie-break, so the order is deterministic. */
function bySubmit(a: WaitingTask, b: WaitingTask): number {
  return a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * One frontend's tasks: priority levels from the highest; within a level, by round (a user's
 * round-robin round, fixed at submit: one after that user's latest unfinished task), then by
 * submit sequence. A user who queued a hundred tasks holds rounds 0..99; another user's task
 * joins the round being served, so it waits for at most one task of each other user.
 */
function withinFrontend<T extends WaitingTask>(tasks: readonly T[]): T[] {
  return [...tasks].sort((a, b) => b.priority - a.priority || a.round - b.round || bySubmit(a, b));
}

/**
 * The gateway's queue order, fair share: each frontend's tasks as `withinFrontend` orders them,
 * interleaved across frontends by weight (stride scheduling: the next task comes from the
 * frontend with the least (served + 1) / weight, so `style:2,logo:1` takes two style tasks per
 * logo task while both wait). A frontend without a weight weighs 1. Ties go to the older head
 * task, then the frontend's name. Pure and deterministic: the same waiting set gives the same order.
 */
export function fairOrder<T extends WaitingTask>(tasks: readonly T[], weights: Readonly<Record<string, number>> = {}): T[] {
  const byFrontend = new Map<string, T[]>();
  for (const task of tasks) {
    const lane = byFrontend.get(task.frontend);
    if (lane) lane.push(task);
    else byFrontend.set(task.frontend, [task]);
  }
  const lanes = [...byFrontend].map(([frontend, list]) => ({ frontend, list: withinFrontend(list), next: 0, weight: weights[frontend] ?? 1 }));
  const order: T[] = [];
  while (order.length < tasks.length) {
    let best: (typeof lanes)[number] | null = null;
    let bestPass = Infinity;
    for (const lane of lanes) {
      const head = lane.list[lane.next];
      if (!head) continue;
      const pass = (lane.next + 1) / lane.weight;
      const better =
        best === null ||
        pass < bestPass ||
        (pass === bestPass && (bySubmit(head, best.list[best.next]!) < 0 || (bySubmit(head, best.list[best.next]!) === 0 && lane.frontend < best.frontend)));
      if (better) {
        best = lane;
        bestPass = pass;
      }
    }
    if (!best) break;
    order.push(best.list[best.next]!);
    best.next += 1;
  }
  return order;
}
