// Guards: a call that had to wait for a slot (every lane's 32 request slots
// in use) kept its argument by reference and was encoded only when a slot
// freed, so changing the object after the call changed what was sent (167 of
// 200 calls sent a later value). Queued calls are now encoded when made.
import { createPool, isMain, task } from "knitting";
import { assert, rejectsWith, run, test } from "../../js/harness.mjs";

export const slowEcho = task({ f: async (x) => { await new Promise((r) => setTimeout(r, 1)); return x; } });
export const spin = task({ f: (ms) => { const end = Date.now() + ms; while (Date.now() < end); return ms; } });

if (isMain) {
  test("a queued call sends the value it was made with", async () => {
    const pool = createPool({ threads: 1 })({ slowEcho, spin });
    const busy = pool.call.spin(200); // the worker takes nothing for a while
    const shared = { n: 0 };
    const calls = [];
    for (let i = 0; i < 200; i++) {
      shared.n = i;
      calls.push(pool.call.slowEcho(shared));
    }
    shared.n = -1;
    const got = await Promise.all(calls);
    await busy;
    got.forEach((v, i) => assert.equal(v.n, i, `call ${i} sent ${v.n}`));
    await pool.shutdown();
  });

  test("an unsendable value fails at once even when the call must wait", async () => {
    const pool = createPool({ threads: 1 })({ slowEcho, spin });
    const busy = pool.call.spin(100);
    const fill = Array.from({ length: 40 }, (_, i) => pool.call.slowEcho(i));
    await rejectsWith(pool.call.slowEcho(() => 1), TypeError, /function/);
    assert.deepEqual(await Promise.all(fill), Array.from({ length: 40 }, (_, i) => i));
    await busy;
    await pool.shutdown();
  });

  await run("regress issue-9 queued-snapshot");
}
