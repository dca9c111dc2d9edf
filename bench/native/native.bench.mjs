// Native tasks vs JS tasks (docs/native-tasks.md):
//   1. round trip of a trivial task, one call at a time: C thread vs JS worker
//   2. throughput of trivial native calls, 10k in flight, on 1 and 2 C threads
//   3. CPU-bound: CRC-32 of 64 x 1 MiB on 2 threads, C vs JS (examples/native-crc)
// Run through bench/native/run.sh, which points it at a build. Prints a
// Markdown table and, with --json FILE, writes the figures.
import { createPool, isMain, nativeTask, task } from "knitting";
import { crcC, crcJs } from "../../examples/native-crc/crc.mjs";

const env = (k) => globalThis.process?.env?.[k] ?? globalThis.Deno?.env.get(k);
const fixtures = env("KNIT_BENCH_FIXTURES");
export const noopJs = task({ f: (x) => x });
const noopFfi = nativeTask({ symbol: "noop", library: `${fixtures}/libffi_tasks.so`, arg: "number", result: "number" });
const pingGen = nativeTask({ symbol: "g_ping", library: `${fixtures}/libgen_tasks.so` });

const runtime = globalThis.Bun ? `bun ${Bun.version}` : globalThis.Deno ? `deno ${Deno.version.deno}` : `node ${process.version}`;

async function roundTrip(call, arg, n) {
  for (let i = 0; i < 2000; i++) await call(arg); // warm up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call(arg);
  return ((performance.now() - t0) * 1000) / n; // µs per call
}

async function throughput(call, arg, total, inflight) {
  await Promise.all(Array.from({ length: 2000 }, () => call(arg)));
  const t0 = performance.now();
  let sent = 0;
  const lane = async () => {
    while (sent < total) {
      sent++;
      await call(arg);
    }
  };
  // `inflight` chains keep that many calls pending at all times
  await Promise.all(Array.from({ length: inflight }, lane));
  return total / ((performance.now() - t0) / 1000); // calls/s
}

async function crc(pool, call, buffers) {
  await call(buffers[0].subarray(0, 16));
  const t0 = performance.now();
  await Promise.all(buffers.map((b) => call(b)));
  return performance.now() - t0;
}

if (isMain) {
  const quick = (globalThis.process?.argv ?? []).includes("--quick");
  const N = quick ? 5000 : 20000;
  const rows = [];
  {
    const pool = createPool({ threads: 1, native: 1 })({ noopJs, noopFfi, pingGen });
    const js = await roundTrip(pool.call.noopJs, 1, N);
    const ffi = await roundTrip(pool.call.noopFfi, 1, N);
    const gen = await roundTrip(pool.call.pingGen, undefined, N);
    rows.push(["round trip, JS worker (x) => x", `${js.toFixed(1)} µs`]);
    rows.push(["round trip, C thread via libffi (double) => double", `${ffi.toFixed(1)} µs`]);
    rows.push(["round trip, C thread via knitgen dispatch () => double", `${gen.toFixed(1)} µs`]);
    await pool.shutdown();
  }
  for (const native of [1, 2]) {
    const pool = createPool({ native })({ noopFfi });
    const rate = await throughput(pool.call.noopFfi, 1, quick ? 100000 : 400000, 10000);
    rows.push([`throughput, trivial native calls, ${native} C thread${native > 1 ? "s" : ""}`, `${(rate / 1e6).toFixed(2)} M calls/s`]);
    await pool.shutdown();
  }
  {
    const pool = createPool({ threads: 1 })({ noopJs });
    const rate = await throughput(pool.call.noopJs, 1, quick ? 100000 : 400000, 10000);
    rows.push(["throughput, trivial JS calls, 1 JS worker", `${(rate / 1e6).toFixed(2)} M calls/s`]);
    await pool.shutdown();
  }
  {
    const count = quick ? 32 : 64;
    const buffers = Array.from({ length: count }, (_, i) => {
      const b = new Uint8Array(1 << 20);
      let x = 0x9e3779b9 ^ i;
      for (let k = 0; k < b.length; k++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[k] = x & 0xff; }
      return b;
    });
    const jsPool = createPool({ threads: 2 })({ crcJs });
    const cPool = createPool({ native: 2 })({ crcC });
    let js = Infinity, c = Infinity;
    for (let r = 0; r < 3; r++) {
      js = Math.min(js, await crc(jsPool, jsPool.call.crcJs, buffers));
      c = Math.min(c, await crc(cPool, cPool.call.crcC, buffers));
    }
    await jsPool.shutdown();
    await cPool.shutdown();
    rows.push([`CRC-32 ${count} x 1 MiB, 2 JS workers`, `${js.toFixed(0)} ms (${(count / js * 1000).toFixed(0)} MiB/s)`]);
    rows.push([`CRC-32 ${count} x 1 MiB, 2 C threads`, `${c.toFixed(0)} ms (${(count / c * 1000).toFixed(0)} MiB/s)`]);
    rows.push(["CPU-bound speed-up of C over JS", `${(js / c).toFixed(2)}x`]);
  }
  console.log(`\n### native tasks — ${runtime}\n`);
  console.log("| case | result |\n|---|---|");
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  const at = (globalThis.process?.argv ?? []).indexOf("--json");
  if (at > 0) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(process.argv[at + 1], JSON.stringify({ runtime, rows }, null, 2));
  }
}
