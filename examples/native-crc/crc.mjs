// The CRC-32 task twice: in JS (a task() for JS workers) and in C (a
// nativeTask() for the pool's C threads). main.mjs and bench/native use both.
import { nativeTask, task } from "knitting";

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
