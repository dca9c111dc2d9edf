// Faults and lifecycle: timeouts, abort, hard timeouts, crashes, shutdown,
// backpressure, bootstrap. Time bounds are generous: these check behaviour,
// never speed.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createPool, isMain, task } from "knitting";
import { assert, rejectsWith, run, settle, test } from "./harness.mjs";

const runtimeName = process.env.KNIT_TEST_RUNTIME ?? "node24";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function notExported(x) { return x; }

export const nap = task({ f: async (ms) => { await sleep(ms); return ms; } });
export const spin = task({ f: (ms) => { const end = Date.now() + ms; while (Date.now() < end); return ms; } });
export const forever = task({ f: () => { for (;;); } });
export const quick = task({ f: (x) => x });
export const stuckWithTimeout = task({ timeout: 100, f: () => { for (;;); } });
let stoppedEarly = "not yet";
export const cooperative = task({
  abortSignal: { hasAborted: true },
  f: async (ms, signal) => {
    const end = signal.now() + ms;
    while (signal.now() < end) {
      if (signal.hasAborted()) {
        stoppedEarly = "stopped";
        return "stopped";
      }
      await sleep(2);
    }
    stoppedEarly = "ran to the end";
    return "done";
  },
});
export const howItEnded = task({ f: () => stoppedEarly });
export const withTimeout = task({ timeout: 50, f: async (ms) => { await sleep(ms); return "late"; } });
export const withDefault = task({ timeout: { time: 30, default: "fallback" }, f: async () => { await sleep(2000); return "late"; } });
export const withMaybe = task({ timeout: { time: 30, maybe: true }, f: async () => { await sleep(2000); return "late"; } });
export const withError = task({ timeout: { time: 30, error: new RangeError("too slow") }, f: async () => { await sleep(2000); return "late"; } });
export const exits = task({ f: (code) => process.exit(code) });
export const spinThenExit = task({ f: (ms) => { const end = Date.now() + ms; while (Date.now() < end); process.exit(5); } });
export const throwsLater = task({ f: () => { setTimeout(() => { throw new Error("thrown from a timer"); }, 0); return new Promise(() => {}); } });
export const throwsUndefinedLater = task({ f: () => { setTimeout(() => { throw undefined; }, 0); return new Promise(() => {}); } });
export const rejectsLater = task({ f: () => { Promise.reject(new Error("unhandled")); return new Promise(() => {}); } });
export const hog = task({ f: () => { const keep = []; for (;;) keep.push(new Array(1e5).fill(keep.length)); } });
export const bootData = task({ f: () => globalThis.__bootData });
const bootDataWhenImported = isMain ? null : globalThis.__bootData ?? "bootstrap had not run";
export const bootDataAtImport = task({ f: () => bootDataWhenImported });
export const counted = task({ f: (i) => { Atomics.add(globalThis.__ran, i, 1); return i; } });
export const bump = task({ f: (n) => Atomics.add(globalThis.__counter, 0, n) });
let sawAbort = 0;
export const patient = task({
  abortSignal: { hasAborted: true },
  f: async (i, signal) => {
    for (let k = 0; k < 8; k++) {
      if (signal.hasAborted()) {
        sawAbort++;
        return `aborted ${i}`;
      }
      await sleep(5);
    }
    return i;
  },
});
export const abortsSeen = task({ f: () => sawAbort });
const ran = [];
export const record = task({ f: (x) => { ran.push(x); return x; } });
export const recorded = task({ f: () => ran.slice() });

if (isMain) {
  test("a number timeout rejects on time while the task keeps running", async () => {
    const pool = createPool({ threads: 1 })({ withTimeout, quick });
    const t0 = performance.now();
    const err = await rejectsWith(pool.call.withTimeout(1000), Error, /withTimeout.*timed out after 50 ms/);
    const took = performance.now() - t0;
    assert.ok(took >= 45 && took < 900, `settled after ${took} ms`);
    assert.ok(!(typeof err === "string"));
    assert.equal(await pool.call.quick(1), 1, "the pool still serves");
    await pool.shutdown();
  });

  test("timeout forms: default, maybe and error", async () => {
    const pool = createPool({ threads: 2 })({ withDefault, withMaybe, withError });
    assert.equal(await pool.call.withDefault(), "fallback");
    assert.equal(await pool.call.withMaybe(), undefined);
    await rejectsWith(pool.call.withError(), RangeError, /too slow/);
    await pool.shutdown();
  });

  test("abort with an AbortSignal: queued and running calls reject; the task sees hasAborted()", async () => {
    const pool = createPool({ threads: 1 })({ cooperative, howItEnded });
    const before = new AbortController();
    before.abort(new Error("aborted before"));
    await rejectsWith(pool.call.cooperative(10, { signal: before.signal }), Error, /aborted before/);
    assert.equal(await pool.call.howItEnded(), "not yet"); // the worker is up
    const ac = new AbortController();
    const p = pool.call.cooperative(5000, { signal: ac.signal });
    await sleep(50); // running by now (had it still waited, it would never run)
    ac.abort(new Error("stop now"));
    await rejectsWith(p, Error, /stop now/);
    // The task polls hasAborted() every 2 ms; give a loaded machine time.
    let ended = "";
    for (let i = 0; i < 100 && ended !== "stopped"; i++) {
      await sleep(50);
      ended = await pool.call.howItEnded();
    }
    assert.equal(ended, "stopped");
    await rejectsWith(pool.call.cooperative(1, { signal: "nope" }), TypeError);
    await pool.shutdown();
  });

  test("abort signals have no capacity: abortSignalCapacity is accepted and limits nothing", async () => {
    const pool = createPool({ threads: 1, abortSignalCapacity: 2 })({ cooperative });
    const calls = Array.from({ length: 50 }, () => pool.call.cooperative(20));
    assert.deepEqual(new Set(await Promise.all(calls)), new Set(["done"]));
    const ac = new AbortController();
    const p = pool.call.cooperative(5000, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error("enough")), 30);
    await rejectsWith(p, Error, /enough/);
    await pool.shutdown();
  });

  test("5,000 async calls on one worker, a quarter aborted at random: each gets its own outcome", async () => {
    // More calls than a lane has cancel words (4,096): tokens share words,
    // and a cancellation must never be reported for another call.
    const pool = createPool({ threads: 1 })({ patient, abortsSeen });
    await pool.call.abortsSeen(); // the worker is up: aborts land while tasks run
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const calls = [];
    for (let i = 0; i < 5000; i++) {
      const ac = random() < 0.25 ? new AbortController() : null;
      calls.push({ i, ac, out: settle(pool.call.patient(i, ac ? { signal: ac.signal } : undefined)) });
      if (ac) setTimeout(() => ac.abort(new Error(`stop ${i}`)), random() * 40);
    }
    let aborted = 0;
    for (const { i, ac, out } of calls) {
      const r = await out;
      if (ac && !r.ok) {
        aborted++;
        assert.equal(r.value.message, `stop ${i}`);
      } else {
        // not aborted, or finished before its abort fired (a loaded machine
        // runs timers late): either way its own result
        assert.equal(r.value, i, `call ${i}`);
      }
    }
    const seen = await pool.call.abortsSeen();
    assert.ok(aborted > 0 && seen > 0 && seen <= aborted, `${seen} of ${aborted} aborted tasks saw hasAborted()`);
    await pool.shutdown();
  }, { timeoutMs: 60000 });

  test("a call given up on while it waits behind a slow task of its batch never runs", async () => {
    const pool = createPool({ threads: 1 })({ spin, record, recorded });
    await pool.call.recorded();
    const first = pool.call.spin(50); // the next two queue up behind it and are taken together
    const slowOne = pool.call.spin(300);
    const ac = new AbortController();
    const given = settle(pool.call.record("behind", { signal: ac.signal }));
    setTimeout(() => ac.abort(new Error("not needed")), 150); // taken by then, still waiting
    await first;
    assert.match((await given).value.message, /not needed/);
    await slowOne;
    assert.deepEqual(await pool.call.recorded(), []);
    await pool.shutdown();
  });

  test("a call given up on while it waits in its worker's mailbox never runs", async () => {
    const pool = createPool({ threads: 1 })({ spin, record, recorded });
    const busy = pool.call.spin(150); // the worker is in this one
    await sleep(30);
    const ac = new AbortController();
    const given = settle(pool.call.record("given up", { signal: ac.signal })); // sent, waiting behind it
    const kept = settle(pool.call.record("kept"));
    ac.abort(new Error("not needed"));
    assert.match((await given).value.message, /not needed/);
    await busy;
    assert.equal((await kept).value, "kept");
    assert.deepEqual(await pool.call.recorded(), ["kept"]);
    await pool.shutdown();
  });

  test("hardTimeoutMs terminates the worker, rejects its calls, and the pool keeps serving", async () => {
    const pool = createPool({ threads: 1, worker: { hardTimeoutMs: 200 } })({ forever, quick, nap });
    try {
      const stuck = pool.call.forever();
      const waiting = settle(pool.call.nap(10));
      await rejectsWith(stuck, Error, /task "forever" ran past worker.hardTimeoutMs/);
      const other = await waiting;
      assert.ok(other.ok || /was on a worker that was terminated: task "forever"/.test(other.value.message), "the other call settled, never hung");
      assert.equal(await pool.call.quick("after"), "after");
    } finally {
      await pool.shutdown();
    }
  });

  test("hardTimeoutMs counts from when the task starts, not while the call waits behind others", async () => {
    const pool = createPool({ threads: 1, worker: { hardTimeoutMs: 1000 } })({ spin, forever, quick });
    try {
      await pool.call.quick(0);
      // 1.6 s of work on one worker, no task near the limit: none is cut short
      const calls = Array.from({ length: 8 }, () => settle(pool.call.spin(200)));
      const outcomes = await Promise.all(calls);
      assert.deepEqual(outcomes.map((o) => o.value?.message ?? o.value), Array(8).fill(200));
      // one that does run past it behind a slow one is still stopped
      const slow = settle(pool.call.spin(600));
      await rejectsWith(pool.call.forever(), Error, /task "forever" ran past worker.hardTimeoutMs/);
      assert.equal((await slow).value, 600);
    } finally {
      await pool.shutdown();
    }
  });

  test("a stuck task whose call timed out or was aborted is still stopped by hardTimeoutMs", async () => {
    const pool = createPool({ threads: 1, worker: { hardTimeoutMs: 500 } })({ stuckWithTimeout, forever, quick });
    try {
      await pool.call.quick(0);
      const behind = async (cause, value) => {
        const r = await Promise.race([settle(pool.call.quick(value)), sleep(15000).then(() => "hung")]);
        assert.notEqual(r, "hung", `a call behind "${cause}" hung: its worker was never stopped`);
        // deno cannot stop a thread stuck in a loop, so the call cannot be re-sent and rejects
        if (!r.ok) assert.match(r.value.message, new RegExp(`was on a worker that was terminated: task "${cause}" ran past worker.hardTimeoutMs`));
        else assert.equal(r.value, value);
        assert.equal(await pool.call.quick("next"), "next");
      };
      await rejectsWith(pool.call.stuckWithTimeout(), Error, /timed out after 100 ms/);
      await behind("stuckWithTimeout", 1);
      const ac = new AbortController();
      const aborted = pool.call.forever(undefined, { signal: ac.signal });
      await sleep(50);
      ac.abort(new Error("given up"));
      await rejectsWith(aborted, Error, /given up/);
      await behind("forever", 2);
    } finally {
      await pool.shutdown();
    }
  });

  test("a worker that dies is replaced: process.exit, uncaught throw, unhandled rejection", async () => {
    const pool = createPool({ threads: 1 })({ exits, throwsLater, throwsUndefinedLater, rejectsLater, quick });
    await rejectsWith(pool.call.exits(3), Error, /exited with code 3/);
    assert.equal(await pool.call.quick(1), 1);
    await rejectsWith(pool.call.throwsLater(), Error, /thrown from a timer/);
    assert.equal(await pool.call.quick(2), 2);
    await rejectsWith(pool.call.rejectsLater(), Error, /unhandled/);
    assert.equal(await pool.call.quick(3), 3);
    await rejectsWith(pool.call.throwsUndefinedLater(), Error, /its worker crashed: .*\bundefined/);
    assert.equal(await pool.call.quick(4), 4);
    await pool.shutdown();
  });

  test("a worker that exits in a task still answers the calls it finished before", async () => {
    const pool = createPool({ threads: 1 })({ exits, quick });
    try {
      await pool.call.quick(0);
      const before = Array.from({ length: 10 }, (_, i) => pool.call.quick(i));
      const dying = pool.call.exits(4);
      assert.deepEqual(await Promise.all(before), Array.from({ length: 10 }, (_, i) => i));
      await rejectsWith(dying, Error, /got no answer: its worker exited with code 4/);
      assert.equal(await pool.call.quick("after"), "after");
    } finally {
      await pool.shutdown();
    }
  });

  test("a worker that exits amid 2,000 calls: no call that ran is rejected, none runs twice", async () => {
    const N = 2000;
    const ran = new Int32Array(new SharedArrayBuffer(4 * N));
    const href = new URL("./fixtures/bootstrap.mjs", import.meta.url).href;
    const pool = createPool({ threads: 1, worker: { bootstrap: { href, name: "countRuns", data: { ran: ran.buffer } } } })({ counted, exits });
    try {
      await pool.call.counted(0);
      ran[0] = 0;
      const calls = [];
      for (let i = 0; i < N; i++) {
        calls.push(settle(pool.call.counted(i)));
        if (i === 500) pool.call.exits(6).catch(() => {});
      }
      // A host busy elsewhere collects nothing meanwhile: the worker must not
      // run ahead piling up answers its exit would lose.
      const busyUntil = performance.now() + 50;
      while (performance.now() < busyUntil);
      const outcomes = await Promise.all(calls);
      const rejectedButRan = outcomes.filter((o, i) => !o.ok && ran[i] > 0).length;
      assert.equal(rejectedButRan, 0, "a rejected call never ran");
      assert.ok([...ran].every((n) => n <= 1), "no call ran twice");
      assert.ok(outcomes.every((o, i) => !o.ok || (o.value === i && ran[i] === 1)));
    } finally {
      await pool.shutdown();
    }
  });

  test("calls a dead worker never took run on its replacement, once each, in order", async () => {
    const pool = createPool({ threads: 1 })({ spinThenExit, record, recorded });
    try {
      const dying = pool.call.spinThenExit(300);
      await sleep(100); // it is spinning: what comes now waits in its mailbox, untaken
      const waiting = Array.from({ length: 40 }, (_, i) => pool.call.record(i)); // 32 slots, 8 queued
      await rejectsWith(dying, Error, /exited with code 5/);
      assert.deepEqual(await Promise.all(waiting), Array.from({ length: 40 }, (_, i) => i));
      assert.deepEqual(await pool.call.recorded(), Array.from({ length: 40 }, (_, i) => i));
    } finally {
      await pool.shutdown();
    }
  });

  test("a worker that runs out of memory is replaced", async () => {
    // bun ignores resourceLimits; in deno the worker stops at the limit but no
    // exit event reaches the host. Both are documented in docs/lifecycle.md.
    if (runtimeName === "bun" || runtimeName === "deno") return;
    const pool = createPool({ threads: 1, worker: { resourceLimits: { maxOldGenerationSizeMb: 32 } } })({ hog, quick });
    await rejectsWith(pool.call.hog(), Error, /crashed|exited/);
    assert.equal(await pool.call.quick("alive"), "alive");
    await pool.shutdown();
  }, { timeoutMs: 60000 });

  test("shutdown rejects in-flight calls with an Error; later calls reject too", async () => {
    const pool = createPool({ threads: 1 })({ nap });
    const inflight = [pool.call.nap(500), pool.call.nap(500)];
    const checked = inflight.map((p) => rejectsWith(p, Error, /shut down before this call finished/));
    await sleep(20);
    await pool.shutdown();
    await Promise.all(checked);
    await rejectsWith(pool.call.nap(1), Error, /shut down/);
  });

  test("shutdown settles the inliner's calls too: a running one rejects, a waiting one never runs", async () => {
    const pool = createPool({ threads: 0, inliner: { batchSize: 1 } })({ nap, record });
    const running = settle(pool.call.nap(300));
    await sleep(30); // it runs on the host now
    const waiting = settle(pool.call.record("never")); // its turn comes after this tick
    await pool.shutdown();
    assert.equal(pool.pending, 0);
    for (const call of [running, waiting]) assert.match((await call).value?.message, /shut down before this call finished/);
    await sleep(50);
    assert.ok(!ran.includes("never"), "a call shutdown gave up on ran on the host");
  });

  test("a getter that shuts the pool down or aborts its own call while the call is sent: it settles, never hangs", async () => {
    const settledWithin = (p, ms = 2000) => Promise.race([p.then(() => "resolved", (e) => e.message), sleep(ms).then(() => "hung")]);
    for (const queued of [false, true]) {
      // queued: 40 calls ahead fill the lane, so this one is stashed to wait
      const pool = createPool({ threads: 1 })({ nap, quick });
      const ahead = Array.from({ length: queued ? 40 : 0 }, () => pool.call.quick(0).catch(() => {}));
      const call = pool.call.quick({ get x() { pool.shutdown(); return 1; } });
      assert.match(await settledWithin(call), /shut down/, `queued: ${queued}`);
      await Promise.all(ahead);
      await pool.shutdown();
    }
    for (const queued of [false, true]) {
      const pool = createPool({ threads: 1 })({ nap, quick });
      const ahead = Array.from({ length: queued ? 40 : 0 }, () => pool.call.quick(0));
      const abort = new AbortController();
      const call = pool.call.quick({ get x() { abort.abort(new Error("aborted by its own argument")); return 1; } }, { signal: abort.signal });
      assert.equal(await settledWithin(call), "aborted by its own argument");
      await Promise.all(ahead);
      assert.equal(pool.pending, 0);
      assert.equal(await pool.call.quick(2), 2);
      await pool.shutdown();
    }
  });

  test("shutdown settles a call still waiting for its promise argument", async () => {
    const pool = createPool({ threads: 1 })({ quick });
    const never = rejectsWith(pool.call.quick(new Promise(() => {})), Error, /shut down before this call finished/);
    let late;
    const later = rejectsWith(pool.call.quick(new Promise((r) => (late = r))), Error, /shut down before this call finished/);
    assert.equal(pool.pending, 2);
    await pool.shutdown();
    await never;
    late("too late");
    await later;
    assert.equal(pool.pending, 0);
  });

  test("shutdown(delayMs): a number of ms from 0, Infinity waits for every call, anything else is a TypeError", async () => {
    const pool = createPool({ threads: 1 })({ nap });
    for (const bad of [NaN, -1, "300", null, {}]) await rejectsWith(pool.shutdown(bad), TypeError, /delayMs must be a number/);
    const slow = pool.call.nap(150);
    await pool.shutdown(Infinity);
    assert.equal(await slow, 150);
  });

  test("many calls sharing one AbortSignal: one listener, each call aborted", async () => {
    const pool = createPool({ threads: 1 })({ nap });
    const ac = new AbortController();
    const counted = [];
    const add = ac.signal.addEventListener.bind(ac.signal);
    ac.signal.addEventListener = (type, fn, opts) => {
      counted.push(type);
      return add(type, fn, opts);
    };
    const calls = Array.from({ length: 50 }, () => settle(pool.call.nap(1000, { signal: ac.signal })));
    assert.equal(counted.length, 1, "one abort listener for 50 calls");
    ac.abort(new Error("all of them"));
    const outcomes = await Promise.all(calls);
    assert.ok(outcomes.every((o) => !o.ok && o.value?.message === "all of them"));
    assert.equal(pool.pending, 0);
    await pool.shutdown();
  });

  test("resolveAfterFinishingAll drains every submitted call", async () => {
    const pool = createPool({ threads: 2, worker: { resolveAfterFinishingAll: true } })({ nap, spin });
    const calls = [];
    for (let i = 0; i < 40; i++) calls.push(i % 2 ? pool.call.nap(20 + i) : pool.call.spin(5));
    await pool.shutdown();
    const results = await Promise.allSettled(calls);
    assert.ok(results.every((r) => r.status === "fulfilled"), "every call settled with its value");
  });

  test("a worker that dies while shutdown drains is replaced: the calls it never took still run", async () => {
    const settledWithin = (p, ms = 10000) => Promise.race([p.then(() => "settled", () => "settled"), sleep(ms).then(() => "hung")]);
    for (const drain of ["resolveAfterFinishingAll", "Infinity"]) {
      const pool = createPool({ threads: 1, worker: { resolveAfterFinishingAll: drain === "resolveAfterFinishingAll" } })({ spinThenExit, quick });
      await pool.call.quick(0);
      const dying = settle(pool.call.spinThenExit(200));
      await sleep(50); // it is spinning: what comes now waits, untaken, in its mailbox and the queue
      const waiting = Array.from({ length: 60 }, (_, i) => settle(pool.call.quick(i)));
      const done = pool.shutdown(drain === "Infinity" ? Infinity : undefined);
      assert.match((await dying).value.message, /exited with code 5/);
      assert.equal(await settledWithin(done), "settled", `${drain}: shutdown hung`);
      const outcomes = await Promise.all(waiting);
      assert.deepEqual(outcomes.map((o) => o.value), Array.from({ length: 60 }, (_, i) => i), drain);
      assert.equal(pool.pending, 0);
    }
  });

  test("maxQueue: calls past it reject with an Error", async () => {
    const pool = createPool({ threads: 1, maxQueue: 5 })({ nap });
    const ok = Array.from({ length: 5 }, () => pool.call.nap(30));
    await rejectsWith(pool.call.nap(1), Error, /maxQueue/);
    await Promise.all(ok);
    assert.equal(await pool.call.nap(1), 1, "room again once calls settle");
    await pool.shutdown();
  });

  test("worker.bootstrap runs first; if it fails, calls reject with its error", async () => {
    const href = new URL("./fixtures/bootstrap.mjs", import.meta.url).href;
    const pool = createPool({ threads: 1, worker: { bootstrap: { href, name: "setup", data: { n: 7 } } } })({ bootData, bootDataAtImport });
    assert.deepEqual(await pool.call.bootData(), { n: 7, booted: true });
    assert.deepEqual(await pool.call.bootDataAtImport(), { n: 7, booted: true }, "the bootstrap ran before the task modules were imported");
    await pool.shutdown();
    const relative = createPool({ threads: 1, worker: { bootstrap: { href: "./fixtures/bootstrap.mjs", name: "setup", data: { n: 8 } } } })({ bootData });
    assert.deepEqual(await relative.call.bootData(), { n: 8, booted: true }, "a relative href resolves against the module that called createPool");
    await relative.shutdown();
    assert.throws(() => createPool({ worker: { bootstrap: { href: "data:text/javascript,export default () => {}" } } }), TypeError, "remote bootstrap needs allowRemoteModules");
    const bad = createPool({ threads: 1, worker: { bootstrap: { href, name: "fails" } } })({ bootData });
    await rejectsWith(bad.call.bootData(), Error, /bootstrap exploded/);
    await rejectsWith(bad.call.bootData(), Error, /bootstrap exploded/);
    await bad.shutdown();
    const throwsNull = createPool({ threads: 1, worker: { bootstrap: { href, name: "throwsNull" } } })({ bootData });
    await rejectsWith(throwsNull.call.bootData(), Error, /a worker failed to start: .*\bnull$/);
    await throwsNull.shutdown();
  });

  test("memory shared with the workers goes in worker.bootstrap's data; a call refuses a SharedArrayBuffer", async () => {
    const counter = new SharedArrayBuffer(4);
    const href = new URL("./fixtures/bootstrap.mjs", import.meta.url).href;
    const pool = createPool({ threads: 2, worker: { bootstrap: { href, name: "shareCounter", data: { counter } } } })({ bump });
    try {
      await Promise.all(Array.from({ length: 100 }, () => pool.call.bump(1)));
      assert.equal(new Int32Array(counter)[0], 100, "both workers added to the host's memory");
      await rejectsWith(pool.call.bump(counter), TypeError, /SharedArrayBuffer cannot be sent/);
    } finally {
      await pool.shutdown();
    }
  });

  test("a worker that cannot start: the calls made before and after say so alike", async () => {
    const pool = createPool({ threads: 1 })({ notExported });
    const why = /^knitting: a worker failed to start: function task "notExported" is not exported from .*; export it, or wrap it in task\(\)$/;
    await rejectsWith(pool.call.notExported(1), Error, why);
    await rejectsWith(pool.call.notExported(2), Error, why);
    await pool.shutdown();
  });

  test("the process exits by itself once its pool is shut down", async () => {
    const child = fileURLToPath(new URL("./fixtures/exits.mjs", import.meta.url));
    const argv = runtimeName === "deno" ? ["run", "-A", child] : [child];
    const t0 = performance.now();
    const r = spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 20000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /result 42/);
    assert.ok(performance.now() - t0 < 15000);
  });

  test("a process that never calls shutdown still exits", async () => {
    const child = fileURLToPath(new URL("./fixtures/no-shutdown.mjs", import.meta.url));
    const argv = runtimeName === "deno" ? ["run", "-A", child] : [child];
    const r = spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 20000 });
    assert.equal(r.signal, null, "killed by the timeout: the process hung at exit");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /result 42/);
  });

  test("a call nobody awaits any more does not hold the process open", async () => {
    const child = fileURLToPath(new URL("./fixtures/abandoned.mjs", import.meta.url));
    const argv = runtimeName === "deno" ? ["run", "-A", child] : [child];
    const t0 = performance.now();
    const r = spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 20000 });
    const took = performance.now() - t0;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /timed out after 20 ms/);
    assert.ok(took < 3500, `exited after ${took | 0} ms; the abandoned task sleeps 4000 ms`);
  });

  test("100 create/shutdown cycles leave no threads or descriptors behind", async () => {
    const count = () => ({ fds: countDir("/proc/self/fd"), threads: countDir("/proc/self/task"), rss: process.memoryUsage().rss });
    const pool0 = createPool({ threads: 2 })({ quick });
    await pool0.call.quick(0);
    await pool0.shutdown();
    await sleep(200);
    const before = count();
    for (let i = 0; i < 100; i++) {
      const pool = createPool({ threads: 2 })({ quick });
      assert.equal(await pool.call.quick(i), i);
      await pool.shutdown();
    }
    await sleep(500);
    const after = count();
    // deno leaks an eventfd and an epoll fd for every worker that loaded any
    // Node-API addon (reproduced without knitting; docs/lifecycle.md), so
    // there the bound is exactly that cost: 200 workers were started.
    const runtimeCost = runtimeName === "deno" ? 2 * 200 : 0;
    assert.ok(after.fds <= before.fds + 4 + runtimeCost, `fds ${before.fds} -> ${after.fds}`);
    assert.ok(after.threads <= before.threads + 4, `threads ${before.threads} -> ${after.threads}`);
    // 200 workers came and went; a leaked lane or arena per worker would
    // show here (each commits megabytes), allocator noise would not.
    const grewMb = (after.rss - before.rss) / 2 ** 20;
    assert.ok(grewMb < 64, `rss grew ${grewMb.toFixed(1)} MiB`);
  }, { timeoutMs: 120000 });

  await run("lifecycle");
}

function countDir(path) {
  try {
    return Deno?.readDirSync ? [...Deno.readDirSync(path)].length : 0;
  } catch {
    // not deno
  }
  return fsCount(path);
}
import { readdirSync } from "node:fs";
function fsCount(path) {
  return readdirSync(path).length;
}
