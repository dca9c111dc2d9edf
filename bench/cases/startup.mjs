// Case 4: startup, from creating the pool to the first result, 1 and 2
// threads; also the time until every thread has answered once.
import { QUICK, attempt, log, median, only, withTimeout, writeResult } from "../lib/common.mjs";
import { ALL } from "../lib/systems.mjs";

const REPS = QUICK ? 2 : 6;
const peers = only.length ? only : ["knitting", "postMessage", "piscina", "tinypool", "workerpool"];

const rows = [];
const peerInfo = {};
for (const name of peers) {
  for (const threads of [1, 2]) {
    const first = [], allUp = [];
    let err = null;
    for (let rep = 0; rep < REPS && !err; rep++) {
      const r = await attempt(name, async () => {
        const t0 = performance.now();
        const sys = await ALL[name](threads);
        try {
          const a = sys.call("echo", "hello");
          const rest = Array.from({ length: threads - 1 }, () => sys.call("echo", "hello"));
          await withTimeout(a, 10_000, `${name} first result`);
          const t1 = performance.now();
          await withTimeout(Promise.all(rest), 10_000, `${name} all threads`);
          const t2 = performance.now();
          return { first: t1 - t0, all: t2 - t0 };
        } finally {
          await withTimeout(Promise.resolve(sys.close()), 5000, `${name} close`).catch(() => {});
        }
      });
      if (r.error) err = r.error;
      else {
        first.push(r.first);
        allUp.push(r.all);
      }
    }
    if (err) {
      peerInfo[name] = { error: err };
      break;
    }
    // rep 0 includes loading the library's modules; the rest are warm
    rows.push({ peer: name, threads, coldMs: first[0], warmMs: median(first.slice(1)), warmAllMs: median(allUp.slice(1)), reps: first.length });
    log(`${name.padEnd(12)} threads=${threads} cold ${first[0].toFixed(1)} ms, warm ${median(first.slice(1)).toFixed(1)} ms, all threads ${median(allUp.slice(1)).toFixed(1)} ms`);
  }
}
writeResult("startup", { unit: "ms", reps: REPS, peers: peerInfo, rows });
process.exit(0);
