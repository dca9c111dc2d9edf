// Guards: a task may return any thenable. One that called back twice sent
// two answers for one call, and with call ids reused from a free list the
// second answer could settle the next, unrelated call; one whose then()
// threw broke the worker's batch. Call ids now carry a generation, and the
// worker settles every result through Promise.resolve, exactly once.
// Also: objects with a null prototype and proxies of plain objects still
// travel as plain objects after the encoder's plain-object fast path.
import { createPool, isMain, task } from "knitting";
import { assert, rejectsWith, run, test } from "../../js/harness.mjs";

// Calls back again 1 ms later, after the next calls have been sent.
export const twice = task({ f: (x) => ({ then(ok) { ok(`${x} first`); setTimeout(() => ok(`${x} second`), 1); } }) });
export const both = task({ f: (x) => ({ then(ok, fail) { fail(new Error(`${x} failed`)); ok(`${x} ok`); } }) });
export const throwing = task({ f: () => ({ then() { throw new RangeError("then threw"); } }) });
export const echo = task({ f: (x) => x });

if (isMain) {
  test("a thenable that calls back twice settles its call once, and never another", async () => {
    const pool = createPool({ threads: 1 })({ twice, both, echo });
    const later = () => new Promise((r) => setTimeout(r, 2));
    for (let round = 0; round < 20; round++) {
      assert.equal(await pool.call.twice(`r${round}`), `r${round} first`);
      // Before the fix 31 of these 800 answers were another call's.
      const others = Array.from({ length: 40 }, (_, i) => later().then(() => pool.call.echo(round * 100 + i)));
      await rejectsWith(pool.call.both(`b${round}`), Error, new RegExp(`b${round} failed`));
      assert.deepEqual(await Promise.all(others), Array.from({ length: 40 }, (_, i) => round * 100 + i));
    }
    await pool.shutdown();
  });

  test("a thenable whose then throws rejects its call; the pool keeps working", async () => {
    const pool = createPool({ threads: 1 })({ throwing, echo });
    await rejectsWith(pool.call.throwing(0), RangeError, /then threw/);
    assert.equal(await pool.call.echo("still here"), "still here");
    await pool.shutdown();
  });

  test("null-prototype objects and proxies of plain objects travel as plain objects", async () => {
    const pool = createPool({ threads: 1 })({ echo });
    const bare = Object.assign(Object.create(null), { a: 1, b: "two" });
    assert.deepEqual(await pool.call.echo(bare), { a: 1, b: "two" });
    const proxied = new Proxy({ x: 1, y: [2, 3] }, {});
    assert.deepEqual(await pool.call.echo(proxied), { x: 1, y: [2, 3] });
    await pool.shutdown();
  });

  await run("regress issue-3 settle-once");
}
