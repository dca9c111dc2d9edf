// Idle cost, in a process of its own: after the spin window an idle pool
// must use under 1% of a core (CPU time, not speed).
import { availableParallelism } from "node:os";
import { createPool, isMain, task } from "knitting";
import { assert, run, test } from "./harness.mjs";

export const quick = task({ f: (x) => x });
export const busy = task({
  f: (ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end);
    return ms;
  },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Idle GC, seen from inside a worker: this module runs there before the
// worker loop looks for a collector, so it can count the loop's calls.
let collections = 0;
if (!isMain && typeof globalThis.gc === "function") {
  const real = globalThis.gc;
  globalThis.gc = (...args) => (collections++, real(...args));
}
if (!isMain && typeof globalThis.Bun?.gc === "function") {
  const real = globalThis.Bun.gc;
  globalThis.Bun.gc = (...args) => (collections++, real(...args));
}
export const collector = task({ f: () => typeof globalThis.gc === "function" || typeof globalThis.Bun?.gc === "function" });
export const collected = task({ f: () => collections });

if (isMain) {
  test("an idle pool uses under 1% of a core once the spin window has passed", async () => {
    const pool = createPool({ threads: 2 })({ quick });
    await Promise.all([pool.call.quick(1), pool.call.quick(2)]);
    await sleep(300); // past the worker spin (50 µs), park (50 ms) and host spin (200 µs)
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(2000);
    const used = process.cpuUsage(c0);
    const share = (used.user + used.system) / 1000 / (performance.now() - t0);
    assert.equal(await pool.call.quick(3), 3, "an idle pool still answers");
    await pool.shutdown();
    assert.ok(share < 0.01, `idle CPU ${(share * 100).toFixed(2)}% of a core`);
  }, { timeoutMs: 60000 });

  test("parked workers do not count as busy: pools that idle leave the others uncrowded", async () => {
    // The addon itself, which the package does not export.
    const { knit } = await import(new URL("./node_modules/knitting/addon.js", import.meta.url).href);
    const cores = availableParallelism();
    // One more worker than the cores leave beside the host: crowded while
    // all of them spin, not once they have parked.
    const pools = Array.from({ length: cores }, () => createPool({ threads: 1 })({ quick, busy }));
    await Promise.all(pools.map((p) => p.call.quick(0))); // every worker is up
    const running = pools.map((p) => p.call.busy(400));
    await sleep(200);
    assert.equal(knit.crowded(), true, "every worker is running a task");
    await Promise.all(running);
    await sleep(300);
    assert.equal(knit.crowded(), false, "every worker has parked");
    assert.equal(await pools[0].call.quick(2), 2);
    await Promise.all(pools.map((p) => p.shutdown()));
  }, { timeoutMs: 60000 });

  // Last: worker.gc true sets node's process-wide --expose-gc.
  test("idle workers collect where the runtime exposes a collector, and on node when worker.gc is true", async () => {
    const runtime = globalThis.Bun ? "bun" : globalThis.Deno ? "deno" : "node";
    const plain = createPool({ threads: 1 })({ collector });
    const exposed = await plain.call.collector();
    await plain.shutdown();
    // node runs this test without --expose-gc; deno has no collector to call.
    assert.equal(exposed, runtime === "bun", `${runtime}: a collector by default`);
    const pools = [];
    if (runtime === "bun") pools.push(createPool({ threads: 1 })({ collector, collected }));
    if (runtime === "node") {
      const pool = createPool({ threads: 1, worker: { gc: true } })({ collector, collected });
      assert.equal(await pool.call.collector(), true, "worker.gc: true exposes gc to node workers");
      pools.push(pool);
    }
    for (const pool of pools) {
      const before = await pool.call.collected();
      await sleep(200); // idle past the spin window: one collection
      const after = await pool.call.collected();
      assert.equal(after - before, 1, "one collection per idle spell that followed work");
      await pool.shutdown();
    }
  }, { timeoutMs: 60000 });

  await run("idle");
}
