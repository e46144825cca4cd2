import { describe, expect, it } from "vitest";
import { addressGuard, checkDestination, DestinationRefused, guardedLookup, isSpecialUse } from "./destination.ts";
import { retryDelayMs } from "./retry-schedule.ts";

describe("special-use addresses", () => {
  it.each(["10.1.2.3", "127.0.0.1", "169.254.169.254", "172.31.255.255", "192.168.0.1", "100.100.0.1", "0.0.0.0", "224.0.0.1", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "::ffff:192.168.1.1", "2001:db8::1", "ff02::1"])(
    "%s is special-use",
    (address) => expect(isSpecialUse(address)).toBe(true),
  );

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("%s is public", (address) => {
    expect(isSpecialUse(address)).toBe(false);
  });
});

describe("the operator's policy", () => {
  it("an allow-list opens exactly its addresses and ranges", () => {
    const allowed = addressGuard({ allowPrivate: false, allowed: ["127.0.0.1", "10.2.0.0/16"] });
    expect([allowed("127.0.0.1"), allowed("127.0.0.2"), allowed("10.2.9.9"), allowed("10.3.0.1"), allowed("8.8.8.8")]).toEqual([true, false, true, false, true]);
  });

  it("WEBHOOK_ALLOW_PRIVATE opens every address", () => {
    expect(addressGuard({ allowPrivate: true, allowed: [] })("10.0.0.1")).toBe(true);
  });

  it.each(["ftp://8.8.8.8/", "http://user:pass@8.8.8.8/", "http://192.168.1.1/"])("%s is refused", async (url) => {
    await expect(checkDestination(url, addressGuard({ allowPrivate: false, allowed: [] }))).rejects.toThrow(DestinationRefused);
  });
});

describe("the connect-time lookup", () => {
  const lookup = (allowed: (address: string) => boolean, all: boolean) =>
    new Promise<{ error: Error | null; address: unknown }>((resolve) => guardedLookup(allowed)("localhost", { all }, (error, address) => resolve({ error, address })));

  it("refuses a name that resolves to an address not allowed", async () => {
    const { error } = await lookup(() => false, true);
    expect(error).toBeInstanceOf(DestinationRefused);
  });

  it.each([true, false])("hands the resolved addresses on when they are allowed (all: %s)", async (all) => {
    const { error, address } = await lookup(() => true, all);
    expect(error).toBeNull();
    expect(all ? address : [address]).toEqual(expect.arrayContaining([all ? expect.objectContaining({ address: expect.any(String) }) : expect.any(String)]));
  });
});

describe("the retry schedule", () => {
  it("doubles from the base with ±25 % jitter and stops growing at an hour", () => {
    const schedule = { baseMs: 1_000, retryForMs: 86_400_000 };
    expect([1, 2, 3, 4].map((attempts) => retryDelayMs(schedule, attempts, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(schedule, 3, () => 0)).toBe(3_000);
    expect(retryDelayMs(schedule, 3, () => 1)).toBe(5_000);
    expect(retryDelayMs(schedule, 40, () => 0.5)).toBe(3_600_000);
  });
});
