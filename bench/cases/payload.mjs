// Case 3: payload sweep, 8 B to 8 MiB, one call in flight, echo of the value
// itself: knitting vs raw postMessage (structured clone). Median round trip.
import { QUICK, attempt, log, median, withTimeout, writeResult } from "../lib/common.mjs";
import { knitting, postMessage } from "../lib/systems.mjs";

const MiB = 1 << 20;
const SIZES = QUICK ? [8, 4096, MiB] : [8, 64, 512, 4096, 32768, 262144, 2 * MiB, 8 * MiB];
const KINDS = ["string", "Uint8Array", "Float64Array", "object"];
const BUDGET_MS = QUICK ? 60 : 150;

function record(i) {
  return { id: i, name: `item-${i}`, score: i * 0.5, ok: (i & 1) === 0, tags: ["a", "b"] };
}
function makeObject(bytes) {
  if (bytes < 64) return { s: "x".repeat(Math.max(0, bytes - 8)) };
  const one = JSON.stringify(record(1000)).length + 1;
  const n = Math.max(1, Math.round(bytes / one));
  return Array.from({ length: n }, (_, i) => record(i + 1000));
}
function make(kind, bytes) {
  switch (kind) {
    case "string": return "x".repeat(bytes);
    case "Uint8Array": return new Uint8Array(bytes).fill(7);
    case "Float64Array": return new Float64Array(Math.max(1, bytes / 8)).fill(1.5);
    case "object": return makeObject(bytes);
  }
}
function measureOf(kind, v) {
  if (kind === "string") return v.length;
  if (kind === "object") return JSON.stringify(v).length;
  return v.byteLength;
}

const systems = {
  // 8 MiB strings and objects need a little room over the 8 MiB default cap
  knitting: () => knitting(1, { payload: { maxPayloadBytes: 16 * MiB } }),
  postMessage: () => postMessage(1),
};

const rows = [];
const peerInfo = {};
for (const [name, make_] of Object.entries(systems)) {
  const sys = await attempt(name, () => withTimeout(make_(), 10_000, `${name} start`));
  if (sys.error) {
    peerInfo[name] = { error: sys.error };
    continue;
  }
  peerInfo[name] = {};
  for (const kind of KINDS) {
    for (const bytes of SIZES) {
      const value = make(kind, bytes);
      const actual = measureOf(kind, value);
      const r = await attempt(`${name} ${kind} ${bytes}`, async () => {
        const back = await withTimeout(sys.call("same", value), 20_000, `${name} ${kind} ${bytes}`);
        const got = measureOf(kind, back);
        if (got !== actual || back?.constructor !== value.constructor) throw new Error(`echo came back wrong: sent ${value.constructor.name} ${actual}, got ${back?.constructor?.name} ${got}`);
        const xs = [];
        const t0 = performance.now();
        while ((performance.now() - t0 < BUDGET_MS || xs.length < 3) && xs.length < 5000) {
          const a = performance.now();
          await sys.call("same", value);
          xs.push((performance.now() - a) * 1000);
        }
        return { us: median(xs), n: xs.length };
      });
      rows.push({ peer: name, kind, bytes, actualBytes: actual, ...r, mbPerSec: r.us ? (2 * actual) / r.us : undefined });
      if (!r.error) log(`${name.padEnd(12)} ${kind.padEnd(12)} ${String(bytes).padStart(8)} B  ${r.us.toFixed(1)} µs`);
    }
  }
  await attempt(name, () => withTimeout(Promise.resolve(sys.close()), 5000, `${name} close`));
}
writeResult("payload", { unit: "µs per round trip (median)", sizes: SIZES, kinds: KINDS, peers: peerInfo, rows });
process.exit(0);
