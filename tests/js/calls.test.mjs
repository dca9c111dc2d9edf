// The call path: task shapes, many calls in flight, ordering, isMain.
import { createPool, importTask, isMain, task } from "knitting";
import { readFileSync } from "node:fs";
import { threadId } from "node:worker_threads";
import { assert, run, test } from "./harness.mjs";

export const add = task({ f: ([a, b]) => a + b });
export const greet = (name) => `hello ${name}`;
// A second instance of the package's addon module in every thread (as a
// bundle next to an unbundled copy would make), over the same addon: it
// inits the addon again, which must not disturb the first instance.
const second = await import(new URL("./addon.js?second", import.meta.resolve("knitting")).href);
export const slowEcho = task({
  f: async ([value, ms]) => {
    await new Promise((r) => setTimeout(r, ms));
    return value;
  },
});
export const whereAmI = task({ f: () => ({ isMain, threadId }) });
export const single = task({ f: (s) => s + " world" }).createPool();
// A pool made inside a worker is inert: its calls reject with a clear error.
export const poolInside = task({
  f: async () => {
    const named = createPool({ threads: 1 })({ add });
    const one = task({ f: (x) => x }).createPool();
    const why = (p) => p.then(() => "resolved", (e) => `${e.constructor.name}: ${e.message}`);
    return [await why(named.call.add([1, 2])), await why(one.call(1))];
  },
});
export const microAsync = task({ f: async (x) => x * 2 });
export const thrower = task({ f: () => { throw new Error("nope"); } });
// This thread's nice value (field 19 of /proc/thread-self/stat).
function threadNice() {
  const stat = readFileSync("/proc/thread-self/stat", "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}
export const niceOf = task({ f: () => threadNice() });
// worker.maxInFlight: a call that holds its worker until aborted, and
// short calls that say where they ran.
export const holdUntilAborted = task({
  abortSignal: { hasAborted: true },
  f: (ms, signal) => {
    const end = performance.now() + ms;
    while (!signal.hasAborted() && performance.now() < end);
    return signal.hasAborted();
  },
});
export const busyThread = task({
  f: (ms) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
    return threadId;
  },
});
export const busy = task({ f: (ms) => { const end = Date.now() + ms; while (Date.now() < end); return ms; } });
// How many of these are running at once in this worker, at most.
let running = 0, mostRunning = 0;
export const overlap = task({
  f: async (ms) => {
    mostRunning = Math.max(mostRunning, ++running);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return mostRunning;
  },
});

if (isMain) {
  test("task() with a tuple argument", async () => {
    const pool = createPool({ threads: 2 })({ add, greet });
    try {
      assert.equal(await pool.call.add([1, 2]), 3);
      assert.equal(await pool.call.greet("you"), "hello you");
    } finally {
      await pool.shutdown();
    }
  });

  test("the single-task shorthand, and isMain inside workers", async () => {
    assert.equal(await single.call("hello"), "hello world");
    await single.shutdown();
    const pool = createPool({ threads: 1 })({ whereAmI, poolInside });
    const r = await pool.call.whereAmI();
    assert.equal(r.isMain, false);
    assert.notEqual(r.threadId, 0, "ran on a worker thread");
    const inert = "Error: knitting: pools cannot be used inside a knitting worker";
    assert.deepEqual(await pool.call.poolInside(), [inert, inert]);
    await pool.shutdown();
  });

  test("importTask: only the worker imports the module", async () => {
    const pool = createPool({ threads: 1 })({
      double: importTask({ href: "./fixtures/imported.mjs", name: "double" }),
      loaded: importTask({ href: new URL("./fixtures/imported.mjs", import.meta.url), name: "loadedOn" }),
    });
    assert.equal(await pool.call.double(21), 42);
    assert.equal(await pool.call.loaded(), "worker");
    assert.equal(globalThis.__knitImportedLoaded, undefined, "the host never evaluated it");
    await pool.shutdown();
  });

  test("10,000 calls in flight each get their own result", async () => {
    const pool = createPool({ threads: 2 })({ add, microAsync });
    const n = 10000;
    const ps = [];
    for (let i = 0; i < n; i++) ps.push(i % 2 ? pool.call.add([i, 1]) : pool.call.microAsync(i));
    const out = await Promise.all(ps);
    for (let i = 0; i < n; i++) assert.equal(out[i], i % 2 ? i + 1 : i * 2);
    await pool.shutdown();
  });

  test("bursts of 25 and 50 calls for a second: every burst completes (answers waiting for room are never slept on)", async () => {
    const pool = createPool({ threads: 1 })({ greet });
    try {
      for (const k of [25, 50]) {
        const end = performance.now() + 1000;
        let bursts = 0;
        while (performance.now() < end) {
          const got = await Promise.all(Array.from({ length: k }, (_, i) => pool.call.greet(String(i))));
          assert.equal(got[k - 1], `hello ${k - 1}`);
          bursts++;
        }
        assert.ok(bursts > 0);
      }
    } finally {
      await pool.shutdown();
    }
  }, { timeoutMs: 20000 });

  test("completion order does not matter", async () => {
    const pool = createPool({ threads: 1 })({ slowEcho });
    const delays = [40, 5, 25, 1, 15, 0, 30, 10];
    const out = await Promise.all(delays.map((ms, i) => pool.call.slowEcho([i, ms])));
    assert.deepEqual(out, delays.map((_, i) => i));
    await pool.shutdown();
  });

  test("more than 32 async calls queued per lane", async () => {
    const pool = createPool({ threads: 1 })({ slowEcho });
    const n = 300;
    const out = await Promise.all(Array.from({ length: n }, (_, i) => pool.call.slowEcho([i, i % 7])));
    assert.deepEqual(out, Array.from({ length: n }, (_, i) => i));
    await pool.shutdown();
  });

  test("async calls past a lane's 32 slots all run at once, not 32 per round of answers", async () => {
    // The worker takes calls as they come and runs them concurrently; the
    // host must refill the lane as it empties, not only when answers return.
    const pool = createPool({ threads: 1 })({ overlap });
    const most = Math.max(...(await Promise.all(Array.from({ length: 200 }, () => pool.call.overlap(300)))));
    assert.equal(most, 200);
    await pool.shutdown();
  });

  test("CPU-bound calls come back one by one, first come first served, not with their whole batch", async () => {
    const pool = createPool({ threads: 1 })({ busy });
    await pool.call.busy(1);
    const t0 = Date.now();
    const done = await Promise.all(Array.from({ length: 6 }, () => pool.call.busy(60).then(() => Date.now() - t0)));
    for (let i = 1; i < done.length; i++) assert.ok(done[i] >= done[i - 1], `finished in call order: ${done.join(" ")}`);
    assert.ok(done[1] + 150 < done[5], `the early answers did not wait for the batch: ${done.join(" ")}`);
    await pool.shutdown();
  });

  test("balancers and the inliner all deliver", async () => {
    for (const balancer of ["roundRobin", "firstIdle", "randomLane", "firstIdleOrRandom"]) {
      const pool = createPool({ threads: 2, balancer, inliner: { position: "first", batchSize: 4, dispatchThreshold: 2 } })({ add, thrower });
      const out = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.call.add([i, i])));
      assert.deepEqual(out, Array.from({ length: 200 }, (_, i) => 2 * i), balancer);
      const errs = await Promise.allSettled(Array.from({ length: 20 }, () => pool.call.thrower()));
      assert.ok(errs.every((r) => r.status === "rejected" && r.reason instanceof Error && r.reason.message === "nope"));
      await pool.shutdown();
    }
  });

  test("an inliner-only pool runs on the host", async () => {
    const pool = createPool({ threads: 0, inliner: true })({ add });
    assert.equal(await pool.call.add([2, 3]), 5);
    await pool.shutdown();
  });

  test("a second instance of the addon's JS module in each thread: calls still get their own results", async () => {
    assert.equal(second.knit, (await import(new URL("./addon.js", import.meta.resolve("knitting")).href)).knit);
    const pool = createPool({ threads: 2 })({ add, greet });
    try {
      const out = await Promise.all(Array.from({ length: 2000 }, (_, i) => (i % 2 ? pool.call.add([i, 1]) : pool.call.greet(String(i)))));
      out.forEach((v, i) => assert.equal(v, i % 2 ? i + 1 : `hello ${i}`));
    } finally {
      await pool.shutdown();
    }
  });

  test("a Promise argument is awaited before sending", async () => {
    const pool = createPool({ threads: 1 })({ add });
    assert.equal(await pool.call.add(Promise.resolve([4, 5])), 9);
    assert.equal(await pool.call.add({ then: (ok) => ok([2, 3]) }), 5);
    // A failing argument rejects the call; it never throws at the caller.
    const why = (p) => p.then(() => "resolved", (e) => `${e.constructor.name}: ${e.message}`);
    assert.equal(await why(pool.call.add(Promise.reject(new RangeError("arg failed")))), "RangeError: arg failed");
    assert.equal(await why(pool.call.add({ then() { throw new Error("then threw"); } })), "Error: then threw");
    assert.equal(await why(pool.call.add({ get then() { throw new TypeError("getter threw"); } })), "TypeError: getter threw");
    assert.equal(pool.pending, 0);
    assert.equal(await pool.call.add([1, 2]), 3);
    await pool.shutdown();
  });

  test("using disposes the pool", async () => {
    const pool = createPool({ threads: 1 })({ add });
    assert.equal(await pool.call.add([1, 1]), 2);
    pool[Symbol.dispose]();
    const r = await pool.call.add([1, 1]).then(() => "resolved", (e) => e);
    assert.ok(r instanceof Error);
  });

  test("worker.niceIncrement lowers the workers' priority, not the host's", async () => {
    const host = threadNice();
    const pool = createPool({ threads: 2, worker: { niceIncrement: 3 } })({ niceOf });
    const seen = await Promise.all(Array.from({ length: 8 }, () => pool.call.niceOf()));
    await pool.shutdown();
    for (const nice of seen) assert.equal(nice, Math.min(19, host + 3));
    assert.equal(threadNice(), host);
    assert.throws(() => createPool({ worker: { niceIncrement: -1 } }), TypeError);
    assert.throws(() => createPool({ worker: { niceIncrement: 2.5 } }), TypeError);
  });

  test("worker.maxInFlight: calls wait in the pool, not behind a busy worker", async () => {
    const pool = createPool({ threads: 2, worker: { maxInFlight: 1 } })({ holdUntilAborted, busyThread });
    await Promise.all([pool.call.busyThread(0), pool.call.busyThread(0)]);
    const stop = new AbortController();
    const held = pool.call.holdUntilAborted(20_000, { signal: stop.signal }).catch((e) => e);
    // Without the limit half of these would queue in the held worker for 20 s.
    const ran = await Promise.all(Array.from({ length: 10 }, () => pool.call.busyThread(1)));
    assert.equal(new Set(ran).size, 1);
    // One at a time, so the balancer picks the held worker for one of them:
    // it must go to the free one, not wait in the queue for an answer.
    for (let i = 0; i < 2; i++) assert.equal(await pool.call.busyThread(1), ran[0]);
    stop.abort();
    await held;
    await pool.shutdown();
  });

  test("worker.maxInFlight bounds the async calls a worker runs at once", async () => {
    const pool = createPool({ threads: 1, worker: { maxInFlight: 3 } })({ overlap });
    const peaks = await Promise.all(Array.from({ length: 12 }, () => pool.call.overlap(5)));
    await pool.shutdown();
    assert.ok(Math.max(...peaks) <= 3, `peak ${Math.max(...peaks)}`);
    for (const bad of [0, 1.5, "2", -1]) assert.throws(() => createPool({ worker: { maxInFlight: bad } }), TypeError);
  });

  await run("calls");
}
