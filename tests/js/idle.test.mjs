// Idle cost, in a process of its own: after the spin window an idle pool
// must use under 1% of a core (CPU time, not speed).
import { createPool, isMain, task } from "knitting";
import { assert, run, test } from "./harness.mjs";

export const quick = task({ f: (x) => x });
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

  await run("idle");
}
