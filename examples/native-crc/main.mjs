// The same CRC-32 task written in JS and in C, each called from JS on 2
// threads: JS workers for the one, the pool's C threads for the other.
import { createPool, isMain, nativeTask, task } from "knitting";

// JS: slicing-by-8 too, so the comparison is of languages, not algorithms.
const T = Array.from({ length: 8 }, () => new Int32Array(256));
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  T[0][n] = c;
}
for (let n = 0; n < 256; n++) for (let t = 1; t < 8; t++) T[t][n] = (T[t - 1][n] >>> 8) ^ T[0][T[t - 1][n] & 0xff];
const [T0, T1, T2, T3, T4, T5, T6, T7] = T;

export const crcJs = task({
  f: (bytes) => {
    let c = -1;
    let i = 0;
    const n = bytes.length - (bytes.length % 8);
    for (; i < n; i += 8) {
      const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
      c = T7[lo & 0xff] ^ T6[(lo >>> 8) & 0xff] ^ T5[(lo >>> 16) & 0xff] ^ T4[lo >>> 24] ^
        T3[bytes[i + 4]] ^ T2[bytes[i + 5]] ^ T1[bytes[i + 6]] ^ T0[bytes[i + 7]];
    }
    for (; i < bytes.length; i++) c = (c >>> 8) ^ T0[(c ^ bytes[i]) & 0xff];
    return (c ^ -1) >>> 0;
  },
});

// C: libcrc.so next to this file (meson builds it into the build tree and
// says where through KNIT_EXAMPLE_LIBDIR). With knitgen's dispatch compiled
// in, arg and result could be left out; given, they are checked against it.
const env = (k) => globalThis.process?.env?.[k] ?? globalThis.Deno?.env.get(k);
const libdir = env("KNIT_EXAMPLE_LIBDIR");
export const crcC = nativeTask({
  symbol: "crc32",
  library: libdir ? `${libdir}/libcrc.so` : "./libcrc.so",
  arg: "Uint8Array",
  result: "number",
});

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
