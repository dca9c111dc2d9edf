// C against JS on CPU-bound work: CRC-32 of 64 x 1 MiB on 2 threads, the
// same slicing-by-8 algorithm in C and in JS (examples/native-crc). The round
// trip and throughput of a trivial C task are case 6 of the suite
// (bench/cases/native.mjs). Run through bench/native/run.sh, which points it
// at a build. Prints a Markdown table and, with --json FILE, writes it.
import { createPool, isMain } from "knitting";
import { crcC, crcJs } from "../../examples/native-crc/crc.mjs";

const runtime = globalThis.Bun ? `bun ${Bun.version}` : globalThis.Deno ? `deno ${Deno.version.deno}` : `node ${process.version}`;

async function crc(call, buffers) {
  await call(buffers[0].subarray(0, 16));
  const t0 = performance.now();
  await Promise.all(buffers.map((b) => call(b)));
  return performance.now() - t0;
}

if (isMain) {
  const quick = (globalThis.process?.argv ?? []).includes("--quick");
  const rows = [];
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
    js = Math.min(js, await crc(jsPool.call.crcJs, buffers));
    c = Math.min(c, await crc(cPool.call.crcC, buffers));
  }
  await jsPool.shutdown();
  await cPool.shutdown();
  rows.push([`CRC-32 ${count} x 1 MiB, 2 JS workers`, `${js.toFixed(0)} ms (${(count / js * 1000).toFixed(0)} MiB/s)`]);
  rows.push([`CRC-32 ${count} x 1 MiB, 2 C threads`, `${c.toFixed(0)} ms (${(count / c * 1000).toFixed(0)} MiB/s)`]);
  rows.push(["CPU-bound speed-up of C over JS", `${(js / c).toFixed(2)}x`]);
  console.log(`\n### CPU-bound: C against JS — ${runtime}\n`);
  console.log("| case | result |\n|---|---|");
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  const at = (globalThis.process?.argv ?? []).indexOf("--json");
  if (at > 0) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(process.argv[at + 1], JSON.stringify({ runtime, rows }, null, 2));
  }
}
