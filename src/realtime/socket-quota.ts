/**
 * Open sockets per key (a client address; the user of a user token): 3,000 sockets
 * from one client were all accepted, and with 100 subscribes each an API call took 45 s.
 */
export class SocketQuota {
  private readonly open = new Map<string, number>();

  constructor(private readonly caps: Record<string, number>) {}

  /**
   * Takes a slot under every key (`kind:value`, the kind naming the cap), or none: null when one is
   * full. The release frees them once, however often it is called.
   */
  acquire(keys: readonly string[]): (() => void) | null {
    const full = keys.some((key) => (this.open.get(key) ?? 0) >= (this.caps[key.split(":")[0]!] ?? Infinity));
    if (full) return null;
    for (const key of keys) this.open.set(key, (this.open.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const key of keys) {
        const left = (this.open.get(key) ?? 1) - 1;
        if (left === 0) this.open.delete(key);
        else this.open.set(key, left);
      }
    };
  }
}
