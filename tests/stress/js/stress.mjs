// JS stress: CALLS calls through a pool of THREADS workers, with random
// payloads (numbers, bigints, strings incl. non-ASCII and lone surrogates,
// every typed-array kind from empty through the 448-byte inline edge into the
// arena, nested objects, arrays, Map, Set, Date), some async tasks and some
// throwing ones. Every result is checked against the value that was sent,
// every call id must come back exactly once, and the workers' own execution
// counts must add up to CALLS: nothing lost, nothing run twice.
//
//   stress.mjs CALLS THREADS [SEED]
//
// Exits 0 on success, 1 on the first failure (with the call id and kind).
import { Buffer } from "node:buffer";
import { createPool, isMain, task } from "knitting";

// ---- worker side: every response carries this worker's token and how many
// tasks it has run so far, so the host can sum executions per worker.
const token = `${Math.random().toString(36).slice(2)}-${Date.now()}`;
let runs = 0;

export const echo = task({ f: ([id, v]) => [id, v, ++runs, token] });
export const echoAsync = task({
  f: async ([id, v, slow]) => {
    await (slow ? new Promise((r) => setTimeout(r, 1)) : null);
    return [id, v, ++runs, token];
  },
});
export const fail = task({
  f: ([id, v, asValue]) => {
    ++runs;
    if (asValue) throw { id, v, runs, token }; // a non-Error throw arrives as its value
    throw Object.assign(new RangeError(`call ${id} failed on purpose`), { id, v, runs, token });
  },
});
export const failAsync = task({
  f: async ([id, v]) => {
    await null;
    ++runs;
    throw Object.assign(new TypeError(`call ${id} rejected on purpose`), { id, v, runs, token });
  },
});

// ---- deterministic payloads ----------------------------------------------------

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const arrayKinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
const specials = [0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 2 ** 53, Number.MIN_VALUE, Number.MAX_VALUE, 0.1];

function int(r, n) { return Math.floor(r() * n); }

function number(r) {
  const k = int(r, 4);
  if (k === 0) return specials[int(r, specials.length)];
  if (k === 1) return (r() - 0.5) * 1e6;
  return int(r, 2 ** 31) - 2 ** 30;
}

function bigint(r) {
  const words = r() < 0.9 ? int(r, 3) : int(r, 40);
  let b = 0n;
  for (let i = 0; i < words; i++) b = (b << 64n) | BigInt(int(r, 2 ** 32)) << 32n | BigInt(int(r, 2 ** 32));
  return r() < 0.5 ? -b : b;
}

const unusual = ["\0", "\uD800", "\uDFFF", "é", "✓", "😀", "\u2028", "Ω", "\uFFFF", "a"];
function string(r, maxLen) {
  const n = int(r, maxLen);
  if (r() < 0.5) { // ASCII
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(32 + int(r, 95));
    return s;
  }
  let s = "";
  while (s.length < n) s += r() < 0.3 ? unusual[int(r, unusual.length)] : String.fromCharCode(int(r, 0x10000));
  return s;
}

// A typed array (or DataView, ArrayBuffer, Buffer) of about @bytes bytes.
function binary(r, bytes) {
  const k = int(r, arrayKinds.length + 3);
  const len = Math.max(0, Math.floor(bytes));
  const raw = new Uint8Array(len);
  let x = int(r, 2 ** 32) | 1;
  const words = len >> 2;
  const u32 = new Uint32Array(raw.buffer, 0, words);
  for (let i = 0; i < words; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; u32[i] = x; }
  for (let i = words * 4; i < len; i++) raw[i] = i;
  if (k === arrayKinds.length) return new DataView(raw.buffer, 0, len);
  if (k === arrayKinds.length + 1) return raw.buffer;
  if (k === arrayKinds.length + 2) return Buffer.from(raw.buffer, 0, len);
  const Kind = arrayKinds[k];
  const n = Math.floor(len / Kind.BYTES_PER_ELEMENT);
  // Random bits: floats include NaNs with payloads, which must survive as bytes.
  return new Kind(raw.buffer, 0, n);
}

// Sizes: mostly small, some on either side of the 448-byte inline edge,
// some in the arena, a few large.
function binarySize(r) {
  const k = r();
  if (k < 0.6) return int(r, 64);
  if (k < 0.9) return 400 + int(r, 120); // the inline edge: 448 minus/plus the framing
  if (k < 0.999) return 520 + int(r, 8 * 1024);
  return 64 * 1024 + int(r, 1024 * 1024);
}

function leaf(r) {
  switch (int(r, 10)) {
    case 0: return number(r);
    case 1: return bigint(r);
    case 2: return string(r, 24);
    case 3: return r() < 0.5;
    case 4: return r() < 0.5 ? null : undefined;
    case 5: return new Date(r() < 0.05 ? NaN : int(r, 2 ** 41));
    case 6: return binary(r, int(r, 48));
    default: return int(r, 1000);
  }
}

function nested(r, depth, shape = -1) {
  if (shape < 0 && (depth <= 0 || r() < 0.3)) return leaf(r);
  const n = int(r, 5);
  switch (shape < 0 ? int(r, 4) : shape) {
    case 0: return Array.from({ length: n }, () => nested(r, depth - 1));
    case 1: {
      const m = new Map();
      for (let i = 0; i < n; i++) m.set(r() < 0.5 ? string(r, 6) : int(r, 100), nested(r, depth - 1));
      return m;
    }
    case 2: return new Set(Array.from({ length: n }, () => (r() < 0.5 ? int(r, 1e6) : string(r, 8))));
    default: {
      const o = {};
      for (let i = 0; i < n; i++) o[`k${i}${string(r, 4)}`] = nested(r, depth - 1);
      return o;
    }
  }
}

const kindNames = ["int", "number", "bigint", "ascii", "text", "long-text", "binary", "nested", "map", "set", "date", "mixed"];
// Mostly small values, as a server sends; every kind still comes often
// enough to be exercised thousands of times in a run of 100 000 calls.
function payload(r) {
  const k = r();
  if (k < 0.2) return [0, int(r, 2 ** 31)];
  if (k < 0.3) return [1, number(r)];
  if (k < 0.38) return [2, bigint(r)];
  if (k < 0.48) return [3, string(r, 40)];
  if (k < 0.55) return [4, string(r, 300)]; // non-ASCII crosses the inline edge as STR16
  if (k < 0.553) return [5, string(r, 20000)];
  if (k < 0.7) return [6, binary(r, binarySize(r))];
  if (k < 0.8) return [7, nested(r, 3)];
  if (k < 0.85) return [8, nested(r, 2, 1)];
  if (k < 0.9) return [9, nested(r, 1, 2)];
  if (k < 0.95) return [10, new Date(r() < 0.02 ? NaN : int(r, 2 ** 42) - 2 ** 41)];
  return [11, [leaf(r), nested(r, 2), binary(r, binarySize(r))]];
}

// ---- checking ------------------------------------------------------------------

function same(a, b) {
  if (typeof a === "number") return typeof b === "number" && (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)));
  if (a === null || typeof a !== "object") return a === b;
  if (b === null || typeof b !== "object") return false;
  if (a instanceof Date) return b instanceof Date && same(a.getTime(), b.getTime());
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    const x = a instanceof ArrayBuffer ? new Uint8Array(a) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    const bi = b.entries();
    for (const [k, v] of a) {
      const [k2, v2] = bi.next().value;
      if (!same(k, k2) || !same(v, v2)) return false;
    }
    return true;
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false;
    const bi = b.values();
    for (const v of a) if (!same(v, bi.next().value)) return false;
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(b) !== Object.prototype) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !same(a[ka[i]], b[ka[i]])) return false;
  return true;
}

if (isMain) {
  const calls = Number(process.argv[2] ?? 100000);
  const threads = Number(process.argv[3] ?? 2);
  const seed = Number(process.argv[4] ?? 20240601);
  if (!(calls > 0) || !(threads > 0)) {
    console.error("usage: stress.mjs CALLS THREADS [SEED]");
    process.exit(2);
  }
  const runtime = process.env.KNIT_TEST_RUNTIME ?? "node";
  const window = 512; // calls in flight at once
  const seen = new Uint8Array(calls);
  const perKind = new Array(kindNames.length).fill(0);
  const workers = new Map(); // token -> highest run count seen
  let failure = null;
  let bytesOut = 0;

  const fail1 = (id, kind, what) => {
    if (!failure) failure = `call ${id} (${kindNames[kind]}): ${what}`;
  };
  const note = (id, tok, n) => {
    if (typeof tok !== "string" || !Number.isInteger(n)) return false;
    if ((workers.get(tok) ?? 0) < n) workers.set(tok, n);
    if (id < 0 || id >= calls || !Number.isInteger(id)) return false;
    seen[id]++;
    return true;
  };

  const pool = createPool({ threads })({ echo, echoAsync, fail, failAsync });
  const start = performance.now();
  let next = 0;
  let lastReport = start;

  async function one(id) {
    const r = rng(seed ^ Math.imul(id, 0x9e3779b1));
    const [kind, v] = payload(r);
    perKind[kind]++;
    if (v && v.byteLength) bytesOut += v.byteLength;
    const which = r();
    if (which < 0.8) {
      const res = await pool.call.echo([id, v]);
      if (!Array.isArray(res) || res.length !== 4 || res[0] !== id) return fail1(id, kind, `echo returned id ${res?.[0]}`);
      if (!note(res[0], res[3], res[2])) return fail1(id, kind, "bad worker token or run count");
      if (!same(v, res[1])) return fail1(id, kind, "echoed value differs");
    } else if (which < 0.9) {
      const res = await pool.call.echoAsync([id, v, r() < 0.002]);
      if (!Array.isArray(res) || res[0] !== id) return fail1(id, kind, `echoAsync returned id ${res?.[0]}`);
      if (!note(res[0], res[3], res[2])) return fail1(id, kind, "bad worker token or run count");
      if (!same(v, res[1])) return fail1(id, kind, "async echoed value differs");
    } else {
      const asValue = which < 0.93;
      const asyncFail = which >= 0.97;
      let err;
      try {
        await (asyncFail ? pool.call.failAsync([id, v]) : pool.call.fail([id, v, asValue]));
        return fail1(id, kind, "a throwing task resolved");
      } catch (e) {
        err = e;
      }
      if (asValue) {
        if (err instanceof Error || err?.id !== id) return fail1(id, kind, `thrown value arrived as ${err}`);
      } else {
        const Kind = asyncFail ? TypeError : RangeError;
        if (!(err instanceof Kind) || err.id !== id || !err.message.includes(`call ${id} `)) return fail1(id, kind, `thrown error arrived as ${err}`);
      }
      if (!note(err.id, err.token, err.runs)) return fail1(id, kind, "bad worker token or run count in the error");
      if (!same(v, err.v)) return fail1(id, kind, "value carried by the error differs");
    }
  }

  async function pump() {
    while (!failure) {
      const id = next++;
      if (id >= calls) return;
      try {
        await one(id);
      } catch (e) {
        fail1(id, 0, `unexpected rejection: ${e?.stack ?? e}`);
      }
      if ((id & 0xffff) === 0) {
        const now = performance.now();
        if (now - lastReport > 10000) {
          lastReport = now;
          console.log(`# ${next} calls, ${((next / (now - start)) * 1000 / 1e6).toFixed(3)} M calls/s`);
        }
      }
    }
  }

  await Promise.all(Array.from({ length: window }, pump));
  const secs = (performance.now() - start) / 1000;
  const pending = pool.pending;
  await pool.shutdown();

  if (!failure) {
    let missing = 0, dup = 0, firstBad = -1;
    for (let i = 0; i < calls; i++) {
      if (seen[i] === 1) continue;
      if (firstBad < 0) firstBad = i;
      if (seen[i] === 0) missing++; else dup++;
    }
    if (missing || dup) failure = `${missing} call ids never came back, ${dup} came back more than once (first: ${firstBad})`;
  }
  const executed = [...workers.values()].reduce((a, b) => a + b, 0);
  if (!failure && executed !== calls) failure = `workers ran ${executed} tasks for ${calls} calls`;
  if (!failure && workers.size > threads) failure = `${workers.size} workers answered for ${threads} threads`;
  if (!failure && pending !== 0) failure = `pool.pending is ${pending} after every call settled`;

  const mix = kindNames.map((n, i) => `${n} ${perKind[i]}`).join(", ");
  console.log(`# ${runtime}: ${calls} calls, ${threads} threads, seed ${seed}: ${secs.toFixed(1)} s, ` +
    `${(calls / secs / 1e6).toFixed(3)} M calls/s, ${(bytesOut / 2 ** 20).toFixed(0)} MiB of binary sent`);
  console.log(`# payload mix: ${mix}`);
  if (failure) {
    console.log(`not ok - ${failure}`);
    process.exit(1);
  }
  console.log(`ok - every call answered once, every value intact, ${executed} tasks run on ${workers.size} workers`);
}
