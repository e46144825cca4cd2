import { runtimeCommand, root, type Runtime } from "./gateway.ts";
import { deferCleanup } from "./cleanup.ts";
import { freePort, spawnTracked, stopChild, tailOf, workerPid } from "./processes.ts";

/** The bare multipart route of bench/baseline-server.ts, on the given runtime. */
export async function startBaseline(runtime: Runtime): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const [command, args] = runtimeCommand(runtime, "bench/baseline-server.ts");
  const child = spawnTracked(command, args, { cwd: root, env: { ...process.env, PORT: String(port), HOST: "127.0.0.1" } });
  const tail = tailOf(child);
  const stop = deferCleanup(() => stopChild(child));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`baseline did not start:\n${tail()}`)), 20_000);
      child.once("exit", (code) => reject(new Error(`baseline exited with ${code}:\n${tail()}`)));
      child.stdout!.on("data", (chunk: Buffer) => {
        if (!chunk.toString().includes("baseline listening")) return;
        clearTimeout(timer);
        resolve();
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, pid: workerPid(child.pid!), stop };
}
