// Preload: SIGUSR2 starts the CPU profiler, the next SIGUSR2 writes PROFILE_DIR/<pid>.cpuprofile.
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
const session = new Session();
session.connect();
let running = false;
process.on("SIGUSR2", () => {
  if (!running) {
    running = true;
    session.post("Profiler.setSamplingInterval", { interval: Number(process.env.PROF_INTERVAL_US ?? 250) }, () => {
      session.post("Profiler.enable", () => session.post("Profiler.start"));
    });
    return;
  }
  running = false;
  session.post("Profiler.stop", (err, { profile }) => {
    writeFileSync(`${process.env.PROFILE_DIR}/${process.pid}-${Date.now()}.cpuprofile`, JSON.stringify(profile));
  });
});
