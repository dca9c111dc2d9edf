// Codec properties, with fast-check: random values round-trip equal through
// a worker (encode on the host, decode in the worker, and back) and through
// the host's own codec (a pool of 0 threads with an inliner runs each call as
// knit.clone(value) on the host, the addon's encode/decode
// reached through the public API). Every typed-array kind at any length and
// offset (inline, at the 448-byte edge, in the arena), nested objects, Map
// and Set, unusual strings, bigints of every size, -0, NaN, Dates (invalid
// ones too), Errors with causes and properties, registered symbols.
//
// Runs are seeded, so a run is reproducible: KNIT_PROPS_SEED=n picks another
// seed, KNIT_PROPS_RUNS=k multiplies the number of runs (fast-check prints
// the seed and the shrunk counterexample of a failure).
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { createPool, isMain, task } from "knitting";
import { assert, run, test } from "./harness.mjs";

export const echo = task({ f: (x) => x });

// ---- equality, strict about types, prototypes and order ----------------------

function bytesOf(v) {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function same(a, b, path = "value") {
  const fail = (why) => assert.fail(`${path}: ${why}`);
  if (typeof a !== typeof b) fail(`${typeof a} came back as ${typeof b}`);
  if (typeof a === "number") return Object.is(a, b) || fail(`${a} came back as ${b}`);
  if (a === null || typeof a !== "object") return a === b || fail(`${String(a)} came back as ${String(b)}`);
  if (b === null) fail("came back as null");
  if (a instanceof Date) {
    if (!(b instanceof Date)) fail("a Date came back as something else");
    return Object.is(a.getTime(), b.getTime()) || fail(`Date ${a.getTime()} came back as ${b.getTime()}`);
  }
  if (a instanceof Error) {
    if (Object.getPrototypeOf(b) !== errorProto(a)) fail(`${a.constructor.name} named ${a.name} came back as ${b?.constructor?.name}`);
    assert.equal(b.name, a.name, `${path}.name`);
    assert.equal(b.message, a.message, `${path}.message`);
    assert.equal(b.stack, a.stack, `${path}.stack`);
    assert.equal("cause" in b, "cause" in a, `${path}: cause present`);
    if ("cause" in a) same(a.cause, b.cause, `${path}.cause`);
    const ka = Object.keys(a), kb = Object.keys(b);
    assert.deepEqual(kb, ka, `${path}: own enumerable properties`);
    for (const k of ka) same(a[k], b[k], `${path}.${k}`);
    return true;
  }
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    if (Object.getPrototypeOf(b) !== Object.getPrototypeOf(a)) fail(`${a.constructor.name} came back as ${b?.constructor?.name}`);
    const x = bytesOf(a), y = bytesOf(b);
    if (x.length !== y.length) fail(`${x.length} bytes came back as ${y.length}`);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) fail(`byte ${i} differs`);
    return true;
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || b.size !== a.size) fail("Map size or kind differs");
    const eb = [...b];
    [...a].forEach(([k, v], i) => {
      same(k, eb[i][0], `${path}.key${i}`);
      same(v, eb[i][1], `${path}.get(key${i})`);
    });
    return true;
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || b.size !== a.size) fail("Set size or kind differs");
    const vb = [...b];
    [...a].forEach((v, i) => same(v, vb[i], `${path}[${i}]`));
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || b.length !== a.length) fail("array length or kind differs");
    a.forEach((v, i) => same(v, b[i], `${path}[${i}]`));
    return true;
  }
  // A plain object (possibly with a null prototype) comes back plain.
  if (Object.getPrototypeOf(b) !== Object.prototype) fail("an object came back with another prototype");
  const ka = Object.keys(a), kb = Object.keys(b);
  assert.deepEqual(kb, ka, `${path}: keys`);
  for (const k of ka) same(a[k], b[k], `${path}[${JSON.stringify(k)}]`);
  return true;
}

// ---- arbitraries ------------------------------------------------------------------

const kinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array];

// A byte length: small, around the 448-byte inline edge (the payload framing
// puts the edge a few bytes either side), in the arena, or large.
const smallBytes = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 4, arbitrary: fc.integer({ min: 420, max: 470 }) },
  { weight: 1, arbitrary: fc.integer({ min: 471, max: 8 * 1024 }) },
);
const anyBytes = fc.oneof(
  { weight: 8, arbitrary: smallBytes },
  { weight: 2, arbitrary: fc.integer({ min: 471, max: 64 * 1024 }) },
  { weight: 1, arbitrary: fc.integer({ min: 64 * 1024, max: 3 * 1024 * 1024 }) },
);

// Any binary value: every typed-array kind, DataView, ArrayBuffer and Buffer,
// filled with random bits (NaN payloads included) and sometimes a view at an
// offset into a larger buffer.
const binaryOf = (byteLength) => fc.record({
  kind: fc.integer({ min: 0, max: kinds.length + 2 }),
  bytes: byteLength,
  offsetElems: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 })),
  seed: fc.integer(),
}).map(({ kind, bytes, offsetElems, seed }) => {
  const Kind = kinds[kind] ?? Uint8Array;
  const es = Kind.BYTES_PER_ELEMENT;
  const n = Math.floor(bytes / es);
  const buffer = new ArrayBuffer((n + offsetElems) * es + 3);
  const words = new Uint32Array(buffer, 0, buffer.byteLength >> 2);
  let x = seed | 1;
  for (let i = 0; i < words.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; words[i] = x; }
  if (kind === kinds.length) return new DataView(buffer, offsetElems, n);
  if (kind === kinds.length + 1) return buffer.slice(offsetElems, offsetElems + n);
  if (kind === kinds.length + 2) return Buffer.from(buffer, offsetElems, n);
  return new Kind(buffer, offsetElems * es, n);
});
const binary = binaryOf(smallBytes);
const anyBinary = binaryOf(anyBytes);

const unusualUnit = fc.constantFrom("\0", "\uD800", "\uDBFF", "\uDC00", "\uDFFF", "\uFFFF", "\uFEFF", "\u2028",
  "é", "ß", "😀", "a", "\x7f", "\x80");
const string = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) }, // any code point, lone surrogates too
  { weight: 2, arbitrary: fc.string({ unit: unusualUnit, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) }, // ASCII
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
);
const anyString = fc.oneof(
  { weight: 4, arbitrary: string },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 200, maxLength: 5000 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: unusualUnit, maxLength: 8 }), fc.integer({ min: 1, max: 60000 })).map(([s, k]) => (s || "x").repeat(k)) },
);

// Bigints of every size: zero words up to 4096 64-bit words, and the edges.
const bigint = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(1n << 600n), max: 1n << 600n }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 64 * 4096 }).chain((bits) => fc.bigInt({ min: -(1n << BigInt(bits)), max: 1n << BigInt(bits) })) },
  { weight: 1, arbitrary: fc.constantFrom(0n, -1n, 1n, (1n << 63n) - 1n, -(1n << 63n), (1n << 64n) - 1n, 1n << 64n, -(1n << 64n), (1n << 128n) + 1n) },
);

const number = fc.oneof(
  fc.double(), // -0, NaN, ±Infinity, subnormals included
  fc.integer(),
  fc.constantFrom(-0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 2 ** 53, -(2 ** 53), Number.EPSILON, Number.MIN_VALUE),
);

const date = fc.oneof(fc.date({ noInvalidDate: false }), fc.constant(new Date(NaN)), fc.integer({ min: -8.64e15, max: 8.64e15 }).map((t) => new Date(t)));

const errorKinds = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
const key = fc.oneof(string, fc.constantFrom("__proto__", "constructor", "toString", "0", "1", "-1", "length", "a"));

// The codec carries an Error's name, and the class is the built-in one of
// that name (Error otherwise): a TypeError renamed "Custom" arrives as an
// Error named "Custom".
function errorProto(e) {
  return (errorKinds.find((k) => k.name === e.name) ?? Error).prototype;
}

function errorOf(value) {
  return fc.record({
    kind: fc.integer({ min: 0, max: errorKinds.length - 1 }),
    message: string,
    name: fc.option(fc.oneof(string, fc.constantFrom("constructor", "toString", "Custom")), { nil: undefined }),
    cause: fc.option(value, { nil: undefined, freq: 2 }),
    hasCause: fc.boolean(),
    props: fc.dictionary(fc.constantFrom("code", "errno", "detail", "path", "__proto__"), value, { maxKeys: 3 }),
    stack: fc.option(string, { nil: undefined }),
  }).map(({ kind, message, name, cause, hasCause, props, stack }) => {
    const e = hasCause ? new errorKinds[kind](message, { cause }) : new errorKinds[kind](message);
    if (name !== undefined) e.name = name;
    if (stack !== undefined) e.stack = stack;
    for (const k of Object.keys(props)) Object.defineProperty(e, k, { value: props[k], enumerable: true, writable: true, configurable: true });
    return e;
  });
}

const leaf = fc.oneof(
  number, bigint, string, fc.boolean(), fc.constant(null), fc.constant(undefined), date,
  string.map((s) => Symbol.for(s)),
);

const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", maxDepth: 5, withCrossShrink: true },
    { weight: 6, arbitrary: leaf },
    { weight: 2, arbitrary: binary },
    { weight: 2, arbitrary: tie("array") },
    { weight: 2, arbitrary: tie("object") },
    { weight: 1, arbitrary: tie("map") },
    { weight: 1, arbitrary: tie("set") },
    { weight: 1, arbitrary: tie("error") }),
  array: fc.array(tie("value"), { maxLength: 6 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 6 }), // null-prototype objects too
  map: fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 5 }).map((e) => new Map(e)),
  set: fc.array(tie("value"), { maxLength: 5 }).map((a) => new Set(a)),
  error: errorOf(tie("value")),
}));

// ---- the properties ------------------------------------------------------------------

if (isMain) {
  const seed = Number(process.env.KNIT_PROPS_SEED ?? 9);
  const scale = Number(process.env.KNIT_PROPS_RUNS ?? 1);
  const payload = { maxPayloadBytes: 48 * 1024 * 1024 };
  const worker = createPool({ threads: 1, payload })({ echo });
  const host = createPool({ threads: 0, inliner: { position: "first" }, payload })({ echo });

  const roundTrips = (pool) => async (v) => same(v, await pool.call.echo(v));
  const check = (arb, pool, numRuns) =>
    fc.assert(fc.asyncProperty(arb, roundTrips(pool)), { seed, numRuns: Math.ceil(numRuns * scale), endOnFailure: true });

  for (const [where, pool] of [["a worker", worker], ["the host codec", host]]) {
    test(`random nested values round-trip through ${where}`, () => check(value, pool, 600), { timeoutMs: 120000 });
    test(`every typed-array kind, any length and offset, round-trips through ${where}`, () => check(anyBinary, pool, 300), { timeoutMs: 120000 });
    test(`unusual strings (lone surrogates, NUL, long) round-trip through ${where}`, () => check(anyString, pool, 500), { timeoutMs: 120000 });
    test(`bigints of every size round-trip through ${where}`, () => check(bigint, pool, 500), { timeoutMs: 120000 });
    test(`numbers (-0, NaN) and Dates (invalid too) round-trip through ${where}`, () => check(fc.oneof(number, date), pool, 500), { timeoutMs: 120000 });
    test(`Errors (class, name, message, stack, cause, properties) round-trip through ${where}`, () => check(errorOf(value), pool, 400), { timeoutMs: 120000 });
    // A shape (the keys in order) decoded 8 times is made by a compiled
    // function from then on (runtime/napi/shape.c): send each object 10 times.
    const shaped = fc.dictionary(key, leaf, { minKeys: 1, maxKeys: 17 });
    test(`objects sent again and again (one shape, made by a compiled function) round-trip through ${where}`, () =>
      fc.assert(fc.asyncProperty(shaped, async (v) => {
        for (let i = 0; i < 10; i++) if (!same(v, await pool.call.echo(v))) return false;
        return true;
      }), { seed, numRuns: Math.ceil(150 * scale), endOnFailure: true }), { timeoutMs: 120000 });
  }

  test("values nested 100 deep arrive; 200 deep are refused with a TypeError", async () => {
    const nest = (n) => { let v = 1; for (let i = 0; i < n; i++) v = [v]; return v; };
    same(nest(100), await worker.call.echo(nest(100)));
    await assert.rejects(worker.call.echo(nest(200)), TypeError);
    assert.equal(await worker.call.echo("still fine"), "still fine");
  });

  // The pool's queue and the worker's backlog of results: a Deque must act
  // as a plain array shifted from the front, across its compactions.
  test("Deque behaves like an array used as a FIFO", async () => {
    const { Deque } = await import(new URL("./node_modules/knitting/deque.js", import.meta.url).href);
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ drop: fc.integer({ min: 0, max: 3000 }) }),
      fc.constant({ shift: true }),
      fc.constant({ drain: true }));
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const d = new Deque(), model = [];
      let next = 0;
      for (const o of ops) {
        if (o.push) for (let i = 0; i < o.push; i++) { d.push(next); model.push(next++); }
        else if (o.drop !== undefined) { const n = Math.min(o.drop, model.length); d.drop(n); model.splice(0, n); }
        else if (o.shift) assert.equal(d.shift(), model.shift());
        else assert.deepEqual(d.drain(), model.splice(0));
        assert.equal(d.length, model.length);
        assert.equal(d.peek(), model[0]);
        if (model.length) assert.equal(d.at(model.length - 1), model[model.length - 1]);
      }
      assert.deepEqual(d.list(), model);
    }), { seed, numRuns: Math.ceil(200 * scale) });
  });

  test("shutdown", async () => {
    await worker.shutdown();
    await host.shutdown();
  });
  await run("props.test.mjs");
}
