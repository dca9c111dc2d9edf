// The same CRC-32 task written in JS and in C (crc.mjs), each called from JS
// on 2 threads: JS workers for the one, the pool's C threads for the other.
import { createPool, isMain } from "knitting";
import { crcC, crcJs } from "./crc.mjs";

async function run(pool, call, buffers) {
  await call(buffers[0].subarray(0, 16)); // start-up is not part of the run
  const t0 = performance.now();
  const sums = await Promise.all(buffers.map((b) => call(b)));
  const ms = performance.now() - t0;
  await pool.shutdown();
  return { sums, ms };
}

if (isMain) {
  const count = Number(globalThis.process?.argv?.[2] ?? 64);
  const buffers = Array.from({ length: count }, (_, i) => {
    const b = new Uint8Array(1 << 20);
    let x = 0x9e3779b9 ^ i;
    for (let k = 0; k < b.length; k++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      b[k] = x & 0xff;
    }
    return b;
  });
  const js = createPool({ threads: 2 })({ crcJs });
  const c = createPool({ native: 2 })({ crcC });
  const a = await run(js, js.call.crcJs, buffers);
  const b = await run(c, c.call.crcC, buffers);
  for (let i = 0; i < count; i++) if (a.sums[i] !== b.sums[i]) throw new Error(`buffer ${i}: JS ${a.sums[i]} vs C ${b.sums[i]}`);
  const mb = count;
  console.log(`crc32 of ${count} x 1 MiB on 2 threads, first ${a.sums[0].toString(16)}`);
  console.log(`JS workers: ${a.ms.toFixed(0)} ms (${(mb / a.ms * 1000).toFixed(0)} MiB/s)`);
  console.log(`C threads:  ${b.ms.toFixed(0)} ms (${(mb / b.ms * 1000).toFixed(0)} MiB/s, ${(a.ms / b.ms).toFixed(1)}x)`);
  console.log("native-crc: C and JS agree");
}
