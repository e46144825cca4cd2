import { describe, expect, it } from "vitest";
import { fakeForTest, queue, socketForTest, tracedWorkflows } from "./helpers.ts";
import { isDone, label } from "./ws-recorder.ts";

const workflows = tracedWorkflows();

async function queueOf(url: string): Promise<{ running: string[]; pending: string[] }> {
  const body = (await (await fetch(`${url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
  return { running: body.queue_running.map((item) => String(item[1])), pending: body.queue_pending.map((item) => String(item[1])) };
}

describe("fake ComfyUI knobs that let a test decide when things happen", () => {
  it("holdRoutes with a method holds only that method's requests of the path", async () => {
    const fake = await fakeForTest({ paused: true, holdRoutes: ["POST /queue"] });
    const id = await queue(fake, workflows.empty, "holds");
    const deleting = fetch(`${fake.url}/queue`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ delete: [id] }) });
    await expect.poll(() => fake.counters.held).toBe(1);
    // The read is answered while the delete waits: the prompt is still listed.
    expect(await queueOf(fake.url)).toEqual({ running: [], pending: [id] });
    fake.setOptions({ holdRoutes: [] });
    expect((await deleting).status).toBe(200);
    expect(await queueOf(fake.url)).toEqual({ running: [], pending: [] });
  });

  it("holdNodes keeps a prompt running inside that node class until the class is taken off", async () => {
    const fake = await fakeForTest({ holdNodes: ["ImageInvert"] });
    const socket = await socketForTest(fake);
    const id = await queue(fake, workflows.invert, socket.clientId);
    await socket.waitFor((frame) => frame.kind === "json" && frame.type === "executing" && frame.data.node === "2");
    expect(await queueOf(fake.url)).toEqual({ running: [id], pending: [] });
    expect(fake.counters.promptsFinished).toBe(0);
    fake.setOptions({ holdNodes: [] });
    await socket.waitFor(isDone(id));
    expect(fake.counters.promptsFinished).toBe(1);
  });

  it("muteSockets drops the messages sent while it is set, and only those", async () => {
    const fake = await fakeForTest();
    const socket = await socketForTest(fake);
    const welcome = socket.frames.length;
    fake.setOptions({ muteSockets: true });
    const unheard = await queue(fake, workflows.empty, socket.clientId);
    await expect.poll(() => fake.counters.promptsFinished).toBe(1);
    fake.setOptions({ muteSockets: false });
    const heard = await queue(fake, workflows.empty, socket.clientId);
    await socket.waitFor(isDone(heard));
    const later = socket.frames.slice(welcome);
    expect(later.some((frame) => frame.kind === "json" && frame.data.prompt_id === unheard)).toBe(false);
    expect(later.filter((frame) => label(frame) === "execution_start")).toHaveLength(1);
  });
});
