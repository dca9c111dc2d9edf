// Case 6: CPU-bound scaling. Count the primes below LIMIT in CHUNKS tasks,
// on the host thread alone and on 1 and 2 worker threads.
import { QUICK, attempt, log, only, othersMeter, quietly, withTimeout, writeResult } from "../lib/common.mjs";
import { primes } from "../lib/fns.mjs";
import { ALL } from "../lib/systems.mjs";

const LIMIT = QUICK ? 500_000 : 4_000_000;
const CHUNKS = 32;
const peers = only.length ? only : ["knitting", "postMessage", "piscina", "tinypool", "workerpool"];
const ranges = Array.from({ length: CHUNKS }, (_, i) => [Math.floor((i * LIMIT) / CHUNKS), Math.floor(((i + 1) * LIMIT) / CHUNKS)]);

const rows = [];
const peerInfo = {};
primes([0, 50_000]);
const hostOthers = othersMeter();
let t0 = performance.now();
const expect = ranges.reduce((a, r) => a + primes(r), 0);
const hostMs = performance.now() - t0;
rows.push({ peer: "host thread", threads: 0, ms: hostMs, count: expect, othersPct: hostOthers() });
log(`host thread alone ${hostMs.toFixed(1)} ms (${expect} primes)`);

for (const name of peers) {
  for (const threads of [1, 2]) {
    const r = await attempt(name, async () => {
      const sys = await withTimeout(ALL[name](threads), 10_000, `${name} start`);
      try {
        await withTimeout(Promise.all(Array.from({ length: threads * 2 }, () => sys.call("primes", [0, 50_000]))), 10_000, "warmup");
        return await quietly(async () => {
          const t = performance.now();
          const counts = await withTimeout(Promise.all(ranges.map((r) => sys.call("primes", r))), 60_000, `${name} scan`);
          const ms = performance.now() - t;
          const count = counts.reduce((a, b) => a + b, 0);
          if (count !== expect) throw new Error(`wrong count ${count}, expected ${expect}`);
          return { ms, count };
        }, { tries: 2 });
      } finally {
        await withTimeout(Promise.resolve(sys.close()), 5000, `${name} close`).catch(() => {});
      }
    });
    if (r.error) {
      peerInfo[name] = { error: r.error };
      break;
    }
    rows.push({ peer: name, threads, ...r, speedupVsHost: hostMs / r.ms });
    log(`${name.padEnd(12)} threads=${threads} ${r.ms.toFixed(1)} ms  ×${(hostMs / r.ms).toFixed(2)} vs host`);
  }
}
writeResult("scaling", { unit: "ms", limit: LIMIT, chunks: CHUNKS, peers: peerInfo, rows });
process.exit(0);
