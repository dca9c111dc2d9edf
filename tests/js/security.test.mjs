// Security (docs/security.md): task modules load only from local files unless
// a pool opts in with allowRemoteModules, and values at or past the limits
// are refused with clear errors while the process and the pool carry on.
//
// That a lane cannot be made to read or write outside its own memory is
// proven in C, where the bytes can be forged: tests/unit/test_faults.c
// (corrupt slot headers: status, flags, inline length, arena offset and
// length past the committed arena, each reported KNIT_CORRUPT) and the
// libFuzzer targets tests/fuzz/fuzz_mailbox.c (arbitrary headers and payloads
// under ASan) and fuzz_codec.c / fuzz_native.c (arbitrary payload bytes),
// whose corpora replay in the fuzz, asan and ubsan suites.
import { createPool, importTask, isMain, task } from "knitting";
import { assert, rejectsWith, run, settle, test } from "./harness.mjs";

const KiB = 1024;
const LIMIT = 64 * KiB;

export const echo = task({ f: (x) => x });
export const bytes = task({ f: (n) => new Uint8Array(n) });
export const text = task({ f: (n) => "x".repeat(n) });
export const nested = task({ f: (n) => { let v = 0; for (let i = 0; i < n; i++) v = [v]; return v; } });
export const unsendable = task({
  f: (kind) => {
    if (kind === "function") return () => 1;
    if (kind === "symbol") return Symbol("local");
    if (kind === "cycle") { const o = {}; o.o = o; return o; }
    if (kind === "class") return new (class Thing {})();
    if (kind === "weakmap") return new WeakMap();
    if (kind === "promise") return { p: Promise.resolve(1) };
    return undefined;
  },
});
export const throwsUnsendable = task({
  f: (kind) => {
    if (kind === "function") throw () => 1;
    if (kind === "symbol") throw Symbol("local");
    if (kind === "cycle") { const o = {}; o.o = o; throw o; }
    throw undefined;
  },
});
export const rejectsUnsendable = task({ f: async () => { throw { f: () => 1 }; } });
export const hugeBigint = task({ f: (bits) => (1n << BigInt(bits)) - 1n });
export const wideMap = task({ f: (n) => new Map(Array.from({ length: n }, (_, i) => [i, i])) });

const remote = [
  ["http:", "http://127.0.0.1:9/tasks.mjs"],
  ["https:", "https://example.com/tasks.mjs"],
  ["data:", "data:text/javascript,export const inc = (x) => x + 1;"],
  ["node:", "node:fs"],
  ["blob:", "blob:nodedata:0d6bc0c2-4f43-4bd2-8b3e-7a0c3f7d5e01"],
];

if (isMain) {
  for (const [scheme, href] of remote) {
    test(`importTask with a ${scheme} href is refused with a TypeError at createPool`, () => {
      assert.throws(() => createPool({ threads: 1 })({ t: importTask({ href, name: "inc" }) }),
        (e) => e instanceof TypeError && /only local modules load unless allowRemoteModules/.test(e.message) && e.message.includes(href));
      assert.throws(() => importTask({ href, name: "inc" }).createPool({ threads: 1 }), TypeError, "the single-task shorthand too");
      // One remote task refuses the whole pool, local tasks notwithstanding.
      assert.throws(() => createPool({ threads: 1 })({ echo, t: importTask({ href, name: "inc" }) }), TypeError);
    });
  }

  test("a local relative href resolves to a file: URL and loads", async () => {
    const pool = createPool({ threads: 1 })({ double: importTask({ href: "./fixtures/imported.mjs", name: "double" }) });
    assert.equal(await pool.call.double(4), 8);
    await pool.shutdown();
  });

  test("allowRemoteModules: true lets a data: module load and run", async () => {
    assert.throws(() => createPool({ allowRemoteModules: "yes" }), TypeError, "the option is checked");
    const pool = createPool({ threads: 1, allowRemoteModules: true })({
      inc: importTask({ href: "data:text/javascript,export const inc = (x) => x + 1;", name: "inc" }),
    });
    assert.equal(await pool.call.inc(1), 2, "every runtime's worker imports the data: module");
    await pool.shutdown();
  });

  test("results at the payload limit arrive; one byte past it is a RangeError", async () => {
    const pool = createPool({ threads: 1, payload: { maxPayloadBytes: LIMIT } })({ bytes, text, echo });
    // A Uint8Array payload is 8 bytes of framing plus its bytes.
    assert.equal((await pool.call.bytes(LIMIT - 8)).length, LIMIT - 8);
    await rejectsWith(pool.call.bytes(LIMIT - 7), RangeError);
    // A STR8 payload is 5 bytes of framing plus its bytes.
    assert.equal((await pool.call.text(LIMIT - 5)).length, LIMIT - 5);
    await rejectsWith(pool.call.text(LIMIT - 4), RangeError);
    // The same limits for arguments.
    assert.equal((await pool.call.echo(new Uint8Array(LIMIT - 8))).length, LIMIT - 8);
    await rejectsWith(pool.call.echo(new Uint8Array(LIMIT - 7)), RangeError);
    await rejectsWith(pool.call.echo(new Uint8Array(64 * 1024 * 1024)), RangeError);
    assert.equal(await pool.call.echo("still fine"), "still fine");
    await pool.shutdown();
  });

  test("results nested past 128 levels, unsendable results and throws reject with Errors", async () => {
    const pool = createPool({ threads: 1 })({ nested, unsendable, throwsUnsendable, rejectsUnsendable, echo });
    assert.ok(Array.isArray(await pool.call.nested(120)));
    await rejectsWith(pool.call.nested(129), TypeError);
    await rejectsWith(pool.call.nested(100000), TypeError);
    for (const kind of ["function", "symbol", "cycle", "class", "weakmap", "promise"])
      await rejectsWith(pool.call.unsendable(kind), TypeError);
    for (const kind of ["function", "symbol", "cycle"]) {
      const r = await settle(pool.call.throwsUnsendable(kind));
      assert.equal(r.ok, false);
      assert.ok(r.value instanceof Error, `throwing a ${kind} rejects with an Error, got ${String(r.value)}`);
    }
    const u = await settle(pool.call.throwsUnsendable("undefined"));
    assert.deepEqual(u, { ok: false, value: undefined }, "a thrown undefined arrives as itself");
    const a = await settle(pool.call.rejectsUnsendable());
    assert.ok(!a.ok && a.value instanceof Error, "an async task rejecting with an unsendable value rejects with an Error");
    assert.equal(await pool.call.echo("still fine"), "still fine");
    await pool.shutdown();
  });

  test("large bigints and wide containers: within the limit they arrive, past it RangeError", async () => {
    const pool = createPool({ threads: 1, payload: { maxPayloadBytes: LIMIT } })({ hugeBigint, wideMap, echo });
    const bits = (LIMIT - 6) * 8 - 64; // BIGINT framing is 6 bytes, then whole 64-bit words
    assert.equal(await pool.call.hugeBigint(bits), (1n << BigInt(bits)) - 1n);
    await rejectsWith(pool.call.hugeBigint(LIMIT * 8), RangeError);
    assert.equal((await pool.call.wideMap(1000)).size, 1000);
    await rejectsWith(pool.call.wideMap(100000), RangeError);
    assert.equal(await pool.call.echo(1), 1);
    await pool.shutdown();
  });

  await run("security.test.mjs");
}
