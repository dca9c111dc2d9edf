// Payloads: every supported type round-trips as itself, nested anywhere;
// unsupported values are TypeErrors, oversized ones RangeErrors, and the
// pool keeps working after either.
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createPool, Envelope, isMain, task } from "knitting";
import { assert, rejectsWith, run, test } from "./harness.mjs";

export const echo = task({ f: (x) => x });
export const describe = task({
  f: (x) => Object.prototype.toString.call(x) + (x?.constructor?.name ?? ""),
});
export const makeBig = task({ f: (n) => new Float64Array(n).map((_, i) => i) });
export const sparse = task({ f: (n) => new Array(n) });
export const hold = task({ f: (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms) });

function sameValue(a, b, path = "value") {
  if (typeof a === "number" && Number.isNaN(a)) return assert.ok(Number.isNaN(b), path);
  if (typeof a === "number") return assert.ok(Object.is(a, b), `${path}: ${a} vs ${b}`);
  if (a instanceof Date) {
    assert.ok(b instanceof Date, path);
    return assert.equal(a.getTime(), b.getTime(), path);
  }
  if (ArrayBuffer.isView(a)) {
    assert.equal(Object.getPrototypeOf(b), Object.getPrototypeOf(a), `${path}: kind`);
    const bytes = (v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return assert.deepEqual(bytes(b), bytes(a), path);
  }
  if (a instanceof ArrayBuffer) {
    assert.ok(b instanceof ArrayBuffer, path);
    return assert.deepEqual(new Uint8Array(b), new Uint8Array(a), path);
  }
  if (a instanceof Map) {
    assert.ok(b instanceof Map, path);
    assert.equal(b.size, a.size, path);
    const bk = [...b.entries()];
    [...a.entries()].forEach(([k, v], i) => {
      sameValue(k, bk[i][0], `${path}.key${i}`);
      sameValue(v, bk[i][1], `${path}.val${i}`);
    });
    return;
  }
  if (a instanceof Set) {
    assert.ok(b instanceof Set, path);
    const bv = [...b];
    return [...a].forEach((v, i) => sameValue(v, bv[i], `${path}[${i}]`));
  }
  if (a instanceof Envelope) {
    assert.ok(b instanceof Envelope, path);
    sameValue(a.header, b.header, `${path}.header`);
    return sameValue(a.payload, b.payload, `${path}.payload`);
  }
  if (a instanceof Error) {
    assert.ok(b instanceof a.constructor, `${path}: ${b?.constructor?.name}`);
    assert.equal(b.message, a.message);
    return assert.equal(b.name, a.name);
  }
  if (Array.isArray(a)) {
    assert.ok(Array.isArray(b), path);
    assert.equal(b.length, a.length, path);
    return a.forEach((v, i) => sameValue(v, b[i], `${path}[${i}]`));
  }
  if (a && typeof a === "object") {
    assert.deepEqual(Object.keys(b), Object.keys(a), path);
    return Object.keys(a).forEach((k) => sameValue(a[k], b[k], `${path}.${k}`));
  }
  assert.equal(b, a, path);
}

const samples = {
  int: 42, negZero: -0, nan: NaN, inf: Infinity, ninf: -Infinity, float: 0.1 + 0.2, big: 2 ** 53 + 2,
  t: true, f: false, nul: null, undef: undefined,
  bigint: 123n, negBig: -(2n ** 200n) - 7n, zeroBig: 0n,
  str: "hello", empty: "", unicode: "héllo wörld ✓ 😀", lone: "a\uD800b\uDC00", nul_char: "a\0b",
  date: new Date(1700000000123), sym: Symbol.for("knit.test"),
  arr: [1, "two", [3, [4]]], obj: { a: 1, b: { c: [1, 2] }, "1": "numeric key" }, nullProto: Object.assign(Object.create(null), { x: 1 }),
  map: new Map([[1, "a"], ["b", { c: 2 }], [{ k: 1 }, [3]]]), set: new Set([1, "x", 2n]),
  u8: new Uint8Array([1, 2, 255]), i8: new Int8Array([-1, 2]), u8c: new Uint8ClampedArray([0, 255]),
  i16: new Int16Array([-300, 300]), u16: new Uint16Array([65535]), i32: new Int32Array([-1, 2 ** 31 - 1]),
  u32: new Uint32Array([2 ** 32 - 1]), f32: new Float32Array([1.5, -0]), f64: new Float64Array([Math.PI, -0, NaN]),
  b64: new BigInt64Array([-1n, 2n ** 62n]), bu64: new BigUint64Array([2n ** 64n - 1n]),
  dv: new DataView(new Uint8Array([9, 8, 7]).buffer), ab: new Uint8Array([5, 6]).buffer,
  buf: Buffer.from("buffer!"), sub: new Uint8Array([0, 1, 2, 3, 4]).subarray(1, 3),
  env: new Envelope({ kind: "frame" }, new Uint8Array([1, 2, 3]).buffer),
  err: new TypeError("inner"),
};

if (isMain) {
  const pool = createPool({ threads: 1 })({ echo, describe, makeBig, hold });

  test("every supported type round-trips at the top level", async () => {
    for (const [name, value] of Object.entries(samples)) sameValue(value, await pool.call.echo(value), name);
  });

  test("every supported type round-trips nested in arrays, objects, Map and Set", async () => {
    const nested = [samples, [samples], new Map([["m", samples]]), new Set([samples.u8])];
    const back = await pool.call.echo(nested);
    sameValue(nested, back);
    assert.ok(back[0].u8 instanceof Uint8Array, "a Uint8Array inside an object stays one");
    assert.equal(typeof back[0].bigint, "bigint");
    assert.ok(back[0].date instanceof Date);
  });

  test("a Buffer comes back as a Buffer, a Uint8Array as a Uint8Array", async () => {
    assert.equal(await pool.call.describe(Buffer.from("x")), "[object Uint8Array]Buffer");
    assert.equal(await pool.call.describe(new Uint8Array(1)), "[object Uint8Array]Uint8Array");
  });

  test("a 5 MiB Float64Array and a 2 MiB string arrive whole", async () => {
    const n = (5 * 1024 * 1024) / 8;
    const big = new Float64Array(n).map((_, i) => i * 1.5);
    const back = await pool.call.echo(big);
    assert.equal(back.length, n);
    for (let i = 0; i < n; i += 4099) assert.equal(back[i], i * 1.5);
    assert.equal(back[n - 1], (n - 1) * 1.5);
    const s = "ab✓".repeat((2 * 1024 * 1024) / 3);
    assert.equal(await pool.call.echo(s), s);
    const made = await pool.call.makeBig(n);
    assert.equal(made.length, n);
    assert.equal(made[n - 1], n - 1);
  });

  test("long arrays, Sets and Maps arrive whole and in order, even with Array.prototype patched", async () => {
    const nums = Array.from({ length: 10_000 }, (_, i) => i * 3);
    const words = Array.from({ length: 5_000 }, (_, i) => `w${i}`);
    const set = new Set(words);
    const map = new Map(words.map((w, i) => [w, i]));
    // Above 4,096 keys the encoder reads an object's keys from an array,
    // below from call arguments: both ways arrive alike.
    const wide = Object.fromEntries(words.map((w, i) => [w, i]));
    const narrow = Object.fromEntries(words.slice(0, 40).map((w, i) => [w, [i, i, i, i, i, i]]));
    const check = async () => {
      assert.deepEqual(await pool.call.echo(nums), nums);
      assert.deepEqual(await pool.call.echo(wide), wide);
      assert.deepEqual(await pool.call.echo(narrow), narrow);
      assert.deepEqual(await pool.call.echo([nums, words]), [nums, words]);
      assert.deepEqual([...(await pool.call.echo(set))], words);
      assert.deepEqual([...(await pool.call.echo(map))], [...map]);
    };
    await check();
    // What the host's decoder joins long arrays with must not depend on
    // anything user code can replace later.
    const saved = Array.prototype.concat;
    Array.prototype[Symbol.isConcatSpreadable] = false;
    Array.prototype.concat = () => ["patched"];
    try {
      await check();
    } finally {
      delete Array.prototype[Symbol.isConcatSpreadable];
      Array.prototype.concat = saved;
    }
  });

  test("unsupported values reject with a TypeError and the pool keeps working", async () => {
    class Point { constructor() { this.x = 1; } }
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    await rejectsWith(pool.call.echo(() => 1), TypeError, /function/);
    await rejectsWith(pool.call.echo(Symbol("local")), TypeError, /Symbol/);
    await rejectsWith(pool.call.echo(new Point()), TypeError, /class Point/);
    await rejectsWith(pool.call.echo(cyclic), TypeError, /cyclic/);
    const list = [1, 2, 3, 4, 5, 6];
    list.push({ back: list });
    await rejectsWith(pool.call.echo({ a: { list } }), TypeError, /cyclic/);
    await rejectsWith(pool.call.echo({ a: 1, b: [...list.slice(0, 6), { c: () => 1 }] }), TypeError, /function/);
    const thrower = { a: 1, b: [1, 2, 3, 4, 5, 6, { get c() { throw new RangeError("from a getter"); } }] };
    await rejectsWith(pool.call.echo(thrower), RangeError, /from a getter/);
    await rejectsWith(pool.call.echo({ deep: [Promise.resolve(1)] }), TypeError, /Promise/);
    await rejectsWith(pool.call.echo(new WeakMap()), TypeError);
    const reason = await pool.call.echo({ why: new DOMException("stop", "AbortError") });
    assert.ok(reason.why instanceof DOMException);
    assert.deepEqual([reason.why.name, reason.why.message, reason.why.code], ["AbortError", "stop", 20]);
    const gone = new ArrayBuffer(8);
    const views = { bytes: new Uint8Array(gone), data: new DataView(gone) };
    structuredClone(gone, { transfer: [gone] }); // detaches it, as a postMessage transfer does
    await rejectsWith(pool.call.echo(gone), TypeError, /detached/);
    await rejectsWith(pool.call.echo([views.bytes]), TypeError, /detached/);
    await rejectsWith(pool.call.echo({ view: views.data }), TypeError, /detached/);
    assert.equal(await pool.call.echo("still fine"), "still fine");
  });

  test("a getter that makes a call while its argument is encoded: each call gets its own value", async () => {
    // The addon's scratch writer is in use while the getter runs; the
    // inner call must encode elsewhere, now and when queued (stashed).
    let inner;
    const arg = { a: "outer", get b() { inner = pool.call.echo({ z: "inner".repeat(20) }); return [1, 2, 3, 4, 5, 6, 7]; } };
    const want = { a: "outer", b: [1, 2, 3, 4, 5, 6, 7] };
    assert.deepEqual(await pool.call.echo(arg), want);
    assert.deepEqual(await inner, { z: "inner".repeat(20) });
    const backlog = Array.from({ length: 100 }, (_, i) => pool.call.echo(i));
    assert.deepEqual(await pool.call.echo(arg), want);
    assert.deepEqual(await inner, { z: "inner".repeat(20) });
    assert.deepEqual(await Promise.all(backlog), Array.from({ length: 100 }, (_, i) => i));
  });

  test("a Proxy sends what its traps show: over an array, an array", async () => {
    assert.deepEqual(await pool.call.echo(new Proxy({ a: 1 }, {})), { a: 1 });
    const list = await pool.call.echo({ list: new Proxy([1, new Proxy(["x"], {}), { a: new Proxy([], {}) }], {}) });
    assert.ok(Array.isArray(list.list) && Array.isArray(list.list[1]) && Array.isArray(list.list[2].a));
    assert.deepEqual(list, { list: [1, ["x"], { a: [] }] });
    const self = new Proxy([], {});
    self.push(self);
    await rejectsWith(pool.call.echo(self), TypeError, /cyclic/);
    await rejectsWith(pool.call.echo(new Proxy(new Array(1e9), {})), RangeError, /limit/); // at once, not after 1e9 traps
    const nullProto = Object.assign(Object.create(null), { k: 1 });
    assert.deepEqual({ ...(await pool.call.echo(nullProto)) }, { k: 1 });
  });

  test("a getter whose call takes the lane's last slot runs once", async () => {
    // Each outer call's getter makes an inner call, so the two take slots in
    // turn; with the worker held, one filler call decides which of them gets
    // the lane's last slot. An outer call that loses it must be queued as
    // already encoded, not encoded (and its getter run) again.
    for (const fillers of [0, 1]) {
      const held = pool.call.hold(300);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the worker has taken it
      const calls = [];
      for (let i = 0; i < fillers; i++) calls.push(pool.call.echo("filler"));
      let runs = 0;
      const outers = Array.from({ length: 24 }, (_, i) => ({ i, get inner() { runs++; calls.push(pool.call.echo(-i)); return i; } }));
      const answers = outers.map((arg) => pool.call.echo(arg));
      assert.equal(runs, outers.length, `getters run with ${fillers} filler call(s)`);
      assert.equal(await held, "timed-out");
      assert.deepEqual(await Promise.all(answers), outers.map((_, i) => ({ i, inner: i })));
      assert.equal((await Promise.all(calls)).length, fillers + outers.length);
    }
  });

  test("objects decode alike with and without compiled shape makers (code generation refused on node)", async () => {
    const child = fileURLToPath(new URL("./fixtures/shapes.mjs", import.meta.url));
    const runtimeName = process.env.KNIT_TEST_RUNTIME ?? "node24";
    const argv = runtimeName === "deno" ? ["run", "-A", child]
      : runtimeName === "bun" ? [child]
      : ["--disallow-code-generation-from-strings", child];
    const r = spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 20000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, runtimeName.startsWith("node") ? /shapes ok \(code generation refused\)/ : /shapes ok/);
  });

  test("payloads over the limit reject with a RangeError and the pool keeps working", async () => {
    const small = createPool({ threads: 1, payload: { maxPayloadBytes: 1024 * 1024 } })({ echo, makeBig, sparse });
    await rejectsWith(small.call.echo(new Uint8Array(2 * 1024 * 1024)), RangeError, /limit/);
    assert.equal(await small.call.echo("ok"), "ok");
    // A result over the limit rejects the call, too.
    await rejectsWith(small.call.makeBig(1024 * 1024), RangeError);
    assert.equal(await small.call.echo(7), 7);
    // Arrays too long to fit fail at once, holes or not, in either direction:
    // a billion holes would take a minute to walk.
    const started = Date.now();
    await rejectsWith(small.call.echo(new Array(1e9)), RangeError, /limit/);
    await rejectsWith(small.call.echo({ deep: [new Array(2 ** 32 - 1)] }), RangeError, /limit/);
    await rejectsWith(small.call.sparse(1e9), RangeError, /limit/);
    await rejectsWith(small.call.echo(Array.from({ length: 1e6 }, () => "x".repeat(8))), RangeError, /limit/);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.equal(await small.call.echo(8), 8);
    await small.shutdown();
  });

  test("bad options are TypeErrors from createPool", async () => {
    assert.throws(() => createPool({ threads: -1 }), TypeError);
    assert.throws(() => createPool({ threads: 1.5 }), TypeError);
    assert.throws(() => createPool({ balancer: "nope" }), TypeError);
    assert.throws(() => createPool({ payload: { maxPayloadBytes: "big" } }), TypeError);
    assert.throws(() => createPool({ worker: { timers: { spinMicroseconds: -5 } } }), TypeError);
    assert.throws(() => createPool({ threds: 2 }), /unknown option options.threds/);
    assert.throws(() => createPool({ threads: 0 })({ echo }), /threads is 0 and there is no inliner/);
    assert.throws(() => createPool({ inliner: { batchSize: 0 } }), TypeError);
    assert.throws(() => createPool({ debug: "yes" }), TypeError);
    assert.throws(() => createPool()({ notATask: 5 }), TypeError);
    assert.throws(() => createPool({ worker: { hardTimeoutMs: 2 ** 31 } }), TypeError, "past setTimeout's range");
    assert.throws(() => createPool({ inliner: { position: -1 } }), TypeError);
    assert.throws(() => createPool({ maxQueue: 0 }), TypeError);
  });

  await run("payload");
  await pool.shutdown();
}
