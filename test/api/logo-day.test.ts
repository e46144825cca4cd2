import { describe, expect, it } from "vitest";
import type { LogoDBController } from "../../src/controllers/logo-db-controller.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, jsonRequest, settableClock } from "../support/test-gateway.ts";

/** A logo user with two logos made at 23:59:58 UTC on 1 March; the clock is then set to `at`. */
async function logosTodayAt(dialect: (typeof dialectCases)[number], at: string): Promise<unknown> {
  const clock = settableClock("2026-03-01T23:59:58.000Z");
  const { app, deps } = await createTestGateway(dialect, {}, clock);
  const user = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "day" }))).json()).user;
  const logo = deps.controllers.get("logo") as LogoDBController;
  for (let i = 0; i < 2; i++) {
    await logo.createTask({ userId: user.id, workflow: "swatch", params: {}, status: "succeeded", outputUrls: [] });
  }
  clock.set(at);
  return (await (await app.request(`/api/users/${user.id}?frontend=logo`)).json()).stats;
}

describe.each(dialectCases)("a logo user's logos today (UTC days) on $name", (dialect) => {
  it.skipIf(dialect.skip)("at 23:59:59 UTC the logos made that day still count", async () => {
    expect(await logosTodayAt(dialect, "2026-03-01T23:59:59.000Z")).toEqual({ logosToday: 2 });
  });

  it.skipIf(dialect.skip)("at 00:00:00 UTC the next day they no longer count", async () => {
    expect(await logosTodayAt(dialect, "2026-03-02T00:00:00.000Z")).toEqual({ logosToday: 0 });
  });
});
