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

  await run("idle");
}
