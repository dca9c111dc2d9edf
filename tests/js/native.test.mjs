// Native tasks: C functions called from JS on the pool's C threads, through
// libffi (declared signatures) and through knitgen's generated dispatch.
import { createPool, isMain, nativeTask, task } from "knitting";
import { realpathSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, rejectsWith, run, settle, test } from "./harness.mjs";

// The test libraries live in the build tree that node_modules/knitting
// points into (BUILD/npm/knitting).
const build = dirname(dirname(realpathSync(fileURLToPath(new URL("./node_modules/knitting", import.meta.url)))));
const libDir = `${build}/tests/js/fixtures/native`;
const FFI = `${libDir}/libffi_tasks.so`;
const GEN = `${libDir}/libgen_tasks.so`;
// relative to this module, as users write it
const rel = relative(dirname(fileURLToPath(import.meta.url)), FFI);
const FFI_REL = rel.startsWith("../") ? rel : `./${rel}`;

const ffi = (symbol, arg, result) => nativeTask({ symbol, library: FFI, arg, result });

export const jsDouble = task({ f: (x) => x * 2 });

if (isMain) {
  test("libffi: numbers, booleans, bigints, void", async () => {
    const pool = createPool()({
      add: ffi("add", "[number, number]", "number"),
      nothing: ffi("nothing", "void", "number"),
      isEven: ffi("is_even", "number", "boolean"),
      negate: ffi("negate", "boolean", "boolean"),
      twice: ffi("twice", "bigint", "bigint"),
      bump: ffi("bump", "void", "void"),
      bumped: ffi("bumped", "undefined", "number"),
    });
    try {
      assert.equal(pool.threads, 0, "no JS workers for a native-only pool");
      assert.equal(pool.native, 1, "one C thread by default");
      assert.equal(await pool.call.add([1.5, 2.25]), 3.75);
      assert.equal(await pool.call.nothing(), 42);
      assert.equal(await pool.call.isEven(4), true);
      assert.equal(await pool.call.isEven(3), false);
      assert.equal(await pool.call.negate(false), true);
      assert.equal(await pool.call.twice(-(2n ** 61n)), -(2n ** 62n));
      assert.equal(await pool.call.twice(21n), 42n);
      assert.equal(await pool.call.bump(), undefined);
      assert.equal(await pool.call.bumped(), 1);
    } finally {
      await pool.shutdown();
    }
  });

  test("libffi: strings, bytes and typed arrays in and out", async () => {
    const pool = createPool({ native: 2 })({
      strLen: ffi("str_len", "string", "number"),
      shout: ffi("shout", "string", "string"),
      echo: ffi("echo", "string", "string"),
      greeting: ffi("greeting", "void", "string"),
      notUtf8: ffi("not_utf8", "void", "string"),
      reverse: ffi("reverse", "Uint8Array", "Uint8Array"),
      reverseAb: ffi("reverse", "ArrayBuffer", "ArrayBuffer"),
      dot: ffi("dot", "[Float64Array, Float64Array]", "number"),
      sumI32: ffi("sum_i32", "Int32Array", "number"),
      scale: ffi("scale", "[Float64Array, number]", "Float64Array"),
      iota: ffi("iota", "number", "Int32Array"),
      crc: ffi("crc32", "Uint8Array", "number"),
    });
    try {
      assert.equal(await pool.call.strLen("abc"), 3);
      assert.equal(await pool.call.strLen("é€😀"), 2 + 3 + 4, "UTF-16 strings arrive as UTF-8");
      assert.equal(await pool.call.shout("héllo wörld"), "HéLLO WöRLD!");
      assert.equal(await pool.call.echo("x".repeat(5000)), "x".repeat(5000), "arena-sized, echoed from the request slot");
      assert.equal(await pool.call.greeting(), "héllo");
      // A lone surrogate arrives as WTF-8 and comes back from the C side as
      // it went in, as from a JS worker; other ill-formed UTF-8 becomes U+FFFD.
      for (const s of ["a\uD800b", "\uDC00", "x\uDBFF", "\uDFFF\uD800", "\uD83D\uDE00\uD800z"]) {
        assert.equal(await pool.call.echo(s), s, `echo of ${escape(s)}`);
        assert.equal(await pool.call.shout(s), s.toUpperCase() + "!", `shout of ${escape(s)}`);
      }
      assert.equal(await pool.call.notUtf8(), "a\uFFFD\uFFFDb\uD800\uFFFD");
      assert.deepEqual(await pool.call.reverse(new Uint8Array([1, 2, 3])), new Uint8Array([3, 2, 1]));
      const fromBuffer = await pool.call.reverse(Buffer.from([9, 8]));
      assert.deepEqual([...fromBuffer], [8, 9]);
      const ab = await pool.call.reverseAb(new Uint8Array([5, 6, 7]).buffer);
      assert.ok(ab instanceof ArrayBuffer);
      assert.deepEqual([...new Uint8Array(ab)], [7, 6, 5]);
      assert.deepEqual(await pool.call.reverse(new Uint8Array(0)), new Uint8Array(0));
      assert.equal(await pool.call.dot([new Float64Array([1, 2, 3]), new Float64Array([4, 5, 6])]), 32);
      assert.equal(await pool.call.sumI32(new Int32Array([1, -2, 3])), 2);
      assert.deepEqual(await pool.call.scale([new Float64Array([1, 2]), 3]), new Float64Array([3, 6]));
      assert.deepEqual(await pool.call.iota(4), new Int32Array([0, 1, 2, 3]));
      const big = new Uint8Array(3 << 20).map((_, i) => i * 7);
      assert.equal(await pool.call.crc(big), crc32(big));
      assert.equal(await pool.call.crc(new TextEncoder().encode("123456789")), 0xcbf43926);
    } finally {
      await pool.shutdown();
    }
  });

  test("libffi: structs in and out, nested", async () => {
    const P = "{ x: number; y: number }";
    const L = `{ name: string; at: ${P}; visible: boolean; id: bigint }`;
    const pool = createPool()({
      norm: ffi("norm", P, "number"),
      mid: ffi("mid", `[${P}, ${P}]`, P),
      relabel: ffi("relabel", `[${L}, string]`, L),
    });
    try {
      assert.equal(await pool.call.norm({ x: 3, y: 4 }), 5);
      assert.equal(await pool.call.norm({ y: 4, x: 3, extra: "ignored" }), 5, "any key order; extra keys ignored");
      assert.deepEqual(await pool.call.mid([{ x: 0, y: 0 }, { x: 2, y: 4 }]), { x: 1, y: 2 });
      assert.deepEqual(await pool.call.relabel([{ name: "a", at: { x: 1, y: 2 }, visible: true, id: 5n }, "bé"]),
        { name: "bé", at: { x: 2, y: 2 }, visible: false, id: 6n });
    } finally {
      await pool.shutdown();
    }
  });

  test("knitgen dispatch: types come from the library; declared ones must match", async () => {
    const gen = (symbol, extra) => nativeTask({ symbol, library: GEN, ...extra });
    const pool = createPool()({
      crc: gen("g_crc32"),
      dot: gen("g_dot", { arg: "[Float64Array, Float64Array]", result: "number" }),
      mid: gen("g_mid"),
      shout: gen("g_shout"),
      flip: gen("g_flip"),
      half: gen("g_half"),
      ping: gen("g_ping"),
      solo: gen("g_solo"),
      geo: gen("g_geo"),
      zcrc: gen("crc32"),
    });
    try {
      assert.equal(await pool.call.crc(new TextEncoder().encode("123456789")), 0xcbf43926);
      assert.equal(await pool.call.dot([new Float64Array([1, 2]), new Float64Array([3, 4])]), 11);
      assert.deepEqual(await pool.call.mid([{ x: 0, y: 0 }, { x: 2, y: 2 }]), { x: 1, y: 1 });
      assert.equal(await pool.call.shout("abc"), "ABC");
      assert.equal(await pool.call.flip(true), false);
      assert.equal(await pool.call.half(-9n), -4n);
      assert.equal(await pool.call.ping(), 7);
      assert.equal(await pool.call.solo(["abc"]), 3, "a tuple of one is passed as an array");
      assert.equal(await pool.call.geo([48, 2]), 48002);
      await rejectsWith(pool.call.solo("abc"), TypeError, /argument: expected a tuple of 1 element, got a string/);
      assert.equal(await pool.call.zcrc(new TextEncoder().encode("123456789")), 0xcbf43926, "the library's crc32, not the host's zlib");
    } finally {
      await pool.shutdown();
    }
    assert.throws(() => createPool()({ dot: gen("g_dot", { arg: "Float64Array", result: "number" }) }),
      /native task "dot": 'g_dot' is declared as \(Float64Array\) => number but .* was generated for \(\[Float64Array, Float64Array\]\) => number/);
  });

  test("createPool throws for a missing library, symbol or signature", () => {
    assert.throws(() => createPool()({ t: nativeTask({ symbol: "add", library: "./no-such-lib.so", arg: "number", result: "number" }) }),
      (e) => e instanceof Error && /native task "t": cannot load library .*no-such-lib\.so/.test(e.message));
    assert.throws(() => createPool()({ t: ffi("no_such_symbol", "number", "number") }),
      /native task "t": library .*libffi_tasks\.so has no symbol 'no_such_symbol'/);
    assert.throws(() => createPool()({ t: nativeTask({ symbol: "add", library: FFI }) }),
      /'add' in .* has no declared signature: give arg and result, or compile the knitgen --c-stubs dispatch \(add__knit\)/);
    assert.throws(() => createPool()({ t: ffi("add", "Map<string, number>", "number") }), /the argument: type 'Map<string, number>' has no C mapping/);
    assert.throws(() => createPool()({ t: ffi("add", "number | string", "number") }), /has no C mapping/);
    assert.throws(() => createPool()({ t: ffi("add", "[number, [number]]", "number") }), /argument element 2: type '\[number\]' has no C mapping/);
    assert.throws(() => createPool()({ t: ffi("add", "number", "Promise<number>") }), /a native task is synchronous/);
    assert.throws(() => createPool()({ t: ffi("add", "[number", "number") }), /argument type '\[number' does not parse/);
    assert.throws(() => createPool()({ t: ffi("add", "{ 'a-b': number }", "number") }), /not a C identifier/);
    assert.throws(() => createPool()({ t: ffi("add", "number", "[number, number]") }), /the result: type '\[number, number\]' has no C mapping/);
    assert.throws(() => createPool({ native: 0 })({ t: ffi("add", "number", "number") }), /native is 0, but task "t" is native/);
    assert.throws(() => nativeTask({ symbol: "not a symbol", library: FFI }), TypeError);
    assert.throws(() => nativeTask({ symbol: "add" }), TypeError);
    assert.throws(() => nativeTask({ symbol: "add", library: FFI, arg: 3 }), TypeError);
    assert.throws(() => createPool({ native: -1 }), /native must be an integer from 0 to 256/);
    // C reads a string up to its first NUL: "x.so\0junk" must not load x.so
    assert.throws(() => createPool()({ t: nativeTask({ symbol: "add", library: `${FFI}\0junk`, arg: "number", result: "number" }) }),
      (e) => e instanceof TypeError && /library contains a NUL character/.test(e.message));
    assert.throws(() => createPool()({ t: ffi("add", "[number, number]\0", "number") }), /arg contains a NUL character/);
  });

  test("library paths resolve relative to the declaring module", async () => {
    const t = nativeTask({ symbol: "add", library: FFI_REL, arg: "[number, number]", result: "number" });
    assert.equal(t.library, FFI);
    const pool = t.createPool();
    try {
      assert.equal(await pool.call([2, 3]), 5);
    } finally {
      await pool.shutdown();
    }
  });

  test("calls that fail: wrong arguments, bad bigints, thrown errors, bad results", async () => {
    const pool = createPool()({
      add: ffi("add", "[number, number]", "number"),
      noop1: ffi("noop", "[x: number]", "number"),
      twice: ffi("twice", "bigint", "bigint"),
      norm: ffi("norm", "{ x: number; y: number }", "number"),
      fails: ffi("fails", "number", "number"),
      badResult: ffi("bad_result", "void", "string"),
      dot: ffi("dot", "[Float64Array, Float64Array]", "number"),
    });
    try {
      await rejectsWith(pool.call.add("nope"), TypeError, /argument: expected a tuple of 2 elements, got a string/);
      await rejectsWith(pool.call.add([1]), TypeError, /expected a tuple of 2 elements, got 1/);
      await rejectsWith(pool.call.add([1, "2"]), TypeError, /argument\[1\]: expected a number, got a string/);
      // a tuple of one is an array of one at the call, as its TypeScript type says
      assert.equal(await pool.call.noop1([7]), 7);
      await rejectsWith(pool.call.noop1(7), TypeError, /argument: expected a tuple of 1 element, got a number/);
      await rejectsWith(pool.call.noop1([7, 8]), TypeError, /expected a tuple of 1 element, got 2/);
      await rejectsWith(pool.call.twice(2n ** 64n), RangeError, /does not fit int64_t/);
      await rejectsWith(pool.call.twice(2n ** 63n), RangeError, /does not fit int64_t/);
      assert.equal(await pool.call.twice(-(2n ** 62n)), -(2n ** 63n), "INT64_MIN round-trips");
      await rejectsWith(pool.call.norm({ x: 1 }), TypeError, /argument: property 'y' is missing/);
      await rejectsWith(pool.call.norm({ x: 1, y: "2" }), TypeError, /argument\.y: expected a number, got a string/);
      await rejectsWith(pool.call.fails(3), Error, /^fails\(3\) failed on purpose$/);
      await rejectsWith(pool.call.badResult(), Error, /returned NULL data with length 5/);
      await rejectsWith(pool.call.dot([new Float32Array(2), new Float64Array(2)]), TypeError, /expected a Float64Array, got another kind of value/);
      assert.equal(await pool.call.add([2, 2]), 4, "the thread carries on");
    } finally {
      await pool.shutdown();
    }
  });

  test("a pool mixes JS and native tasks; threads counts JS workers", async () => {
    const pool = createPool({ threads: 1, native: 2 })({ jsDouble, add: ffi("add", "[number, number]", "number") });
    try {
      assert.equal(pool.threads, 1);
      assert.equal(pool.native, 2);
      const n = 20000;
      const ps = [];
      for (let i = 0; i < n; i++) ps.push(i % 2 ? pool.call.add([i, 1]) : pool.call.jsDouble(i));
      const out = await Promise.all(ps);
      for (let i = 0; i < n; i++) assert.equal(out[i], i % 2 ? i + 1 : i * 2);
    } finally {
      await pool.shutdown();
    }
    // threads: 0 is enough for native tasks alone; with a JS task it is refused.
    const nativeOnly = createPool({ threads: 0 })({ add: ffi("add", "[number, number]", "number") });
    assert.equal(nativeOnly.threads, 0);
    assert.equal(nativeOnly.native, 1);
    assert.equal(await nativeOnly.call.add([2, 3]), 5);
    await nativeOnly.shutdown();
    assert.throws(() => createPool({ threads: 0 })({ jsDouble, add: ffi("add", "[number, number]", "number") }), /threads is 0 and there is no inliner/);
  });

  test("long native calls: timeouts settle on the host, shutdown does not wait for C", async () => {
    const sleep = nativeTask({ symbol: "sleep_ms", library: FFI, arg: "number", result: "number", timeout: 50 });
    const pool = createPool({ native: 1, worker: { hardTimeoutMs: 100 } })({ sleep, add: ffi("add", "[number, number]", "number") });
    const t0 = Date.now();
    await rejectsWith(pool.call.sleep(400), Error, /timed out after 50 ms/);
    // the one C thread is still in sleep_ms: later calls queue behind it
    const after = pool.call.add([1, 1]);
    assert.equal(await after, 2);
    assert.ok(Date.now() - t0 >= 350, "the C function ran to its end (hardTimeoutMs cannot stop it)");
    const stuck = pool.call.sleep(300);
    const s0 = Date.now();
    await pool.shutdown();
    assert.ok(Date.now() - s0 < 250, "shutdown returns without joining the C thread");
    const r = await settle(stuck);
    assert.equal(r.ok, false);
  });

  test("long native calls come back one by one, first come first served, not with their whole batch", async () => {
    const pool = createPool({ native: 1 })({ sleep: ffi("sleep_ms", "number", "number") });
    try {
      await pool.call.sleep(1);
      const t0 = Date.now();
      const done = await Promise.all(Array.from({ length: 6 }, () => pool.call.sleep(60).then(() => Date.now() - t0)));
      for (let i = 1; i < done.length; i++) assert.ok(done[i] >= done[i - 1], `finished in call order: ${done.join(" ")}`);
      assert.ok(done[1] + 150 < done[5], `the early answers did not wait for the batch: ${done.join(" ")}`);
    } finally {
      await pool.shutdown();
    }
  });

  test("knit_native_aborted(): a timeout, an AbortSignal or shutdown stops a C task that asks", async () => {
    const timed = nativeTask({ symbol: "work_ms_logged", library: FFI, arg: "number", result: "number", timeout: 50 });
    const pool = createPool({ native: 1 })({
      timed,
      work: ffi("work_ms_logged", "number", "number"),
      last: ffi("last_logged", "void", "number"),
      count: ffi("calls_logged", "void", "number"),
    });
    try {
      const t0 = Date.now();
      await rejectsWith(pool.call.timed(5000), Error, /timed out after 50 ms/);
      // The one C thread is free again long before 5 s: the task returned early.
      const ran = -(await pool.call.last());
      assert.ok(ran >= 40 && ran < 2000, `the timed-out task stopped after ${ran} ms`);
      assert.ok(Date.now() - t0 < 2500);

      const before = await pool.call.count();
      const ac = new AbortController();
      const aborted = settle(pool.call.work(5000, { signal: ac.signal }));
      // Given up on while it still waits behind the first: it never runs.
      const queued = new AbortController();
      const never = settle(pool.call.work(5000, { signal: queued.signal }));
      queued.abort(new Error("not needed"));
      setTimeout(() => ac.abort(new Error("stop")), 30);
      assert.match((await aborted).value.message, /stop/);
      assert.match((await never).value.message, /not needed/);
      const stopped = -(await pool.call.last());
      assert.ok(stopped >= 20 && stopped < 2000, `the aborted task stopped after ${stopped} ms`);
      // last() answered after the batch holding the waiting call was done.
      assert.equal(await pool.call.count(), before + 1, "the call given up on while it waited never ran");
      assert.ok((await pool.call.work(5)) >= 5, "a call nobody gave up on runs to its end");

      const during = settle(pool.call.work(5000));
      await new Promise((r) => setTimeout(r, 20));
      await pool.shutdown();
      assert.equal((await during).ok, false);
    } finally {
      await pool.shutdown();
    }
    // The shut-down pool's thread stops too; another pool reads what it did.
    const next = createPool({ native: 1 })({ last: ffi("last_logged", "void", "number") });
    try {
      let ran = 0;
      for (let i = 0; i < 200 && !(ran < 0); i++) {
        ran = await next.call.last();
        if (!(ran < 0)) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(ran < 0 && -ran < 2000, `the task stopped ${-ran} ms in, at shutdown`);
    } finally {
      await next.shutdown();
    }
  });
}

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

if (isMain) await run("native.test.mjs");
