// Case 2: throughput of tiny calls (string echo) on 1 and 2 threads.
// A sliding window keeps W calls in flight; each completion issues the next
// call. knitting runs the full million; a peer stops issuing at its time cap
// and is reported from the calls it completed.
import { QUICK, attempt, log, only, quietly, withTimeout, writeResult } from "../lib/common.mjs";
import { ALL } from "../lib/systems.mjs";

const N = QUICK ? 100_000 : 1_000_000;
const WINDOW = 1024;
const CAP_MS = QUICK ? 1000 : 2500;
const peers = only.length ? only : ["knitting", "postMessage", "piscina", "tinypool", "workerpool"];

function run(sys, n, capMs) {
  return new Promise((resolve, reject) => {
    let sent = 0, done = 0, stop = false;
    const t0 = performance.now();
    const deadline = t0 + capMs;
    const onDone = () => {
      done++;
      if ((done & 1023) === 0 && performance.now() > deadline) stop = true;
      if (!stop && sent < n) issue();
      else if (done === sent) resolve({ calls: done, ms: performance.now() - t0, capped: sent < n });
    };
    const issue = () => {
      sent++;
      sys.call("echo", "hello").then(onDone, reject);
    };
    for (let i = 0; i < WINDOW && i < n; i++) issue();
  });
}

const rows = [];
const peerInfo = {};
for (const name of peers) {
  for (const threads of [1, 2]) {
    const sys = await attempt(name, () => withTimeout(ALL[name](threads), 10_000, `${name} start`));
    if (sys.error) {
      peerInfo[name] = { error: sys.error };
      break;
    }
    const r = await attempt(name, async () => {
      await withTimeout(run(sys, 20_000, 500), 10_000, `${name} warmup`); // warm up JIT + all workers
      return quietly(() => withTimeout(run(sys, N, name === "knitting" ? 60_000 : CAP_MS), 70_000, `${name} run`), { tries: 2 });
    });
    await attempt(name, () => withTimeout(Promise.resolve(sys.close()), 5000, `${name} close`));
    if (r.error) {
      peerInfo[name] = { error: r.error };
      break;
    }
    const perSec = (r.calls / r.ms) * 1000;
    rows.push({ peer: name, threads, calls: r.calls, ms: r.ms, callsPerSec: perSec, capped: r.capped, window: WINDOW, othersPct: r.othersPct });
    log(`${name.padEnd(12)} threads=${threads} ${r.calls} calls in ${r.ms.toFixed(0)} ms = ${(perSec / 1e6).toFixed(3)} M calls/s${r.capped ? " (time cap)" : ""}  others ${r.othersPct?.toFixed(0)}%`);
  }
}
writeResult("throughput", { n: N, window: WINDOW, capMs: CAP_MS, peers: peerInfo, rows });
process.exit(0);
