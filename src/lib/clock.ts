/** Time source, injected so tests can pin "now" and rows get deterministic timestamps. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
