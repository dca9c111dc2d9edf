// Calls every task of the generated table and checks the answers.
import { createPool } from "knitting";
import table from "./gen/tasks.knit.js";

const pool = createPool({ threads: 2 })(table);
const early = pool.call.sleepy(3000); // made before any worker reported in
const got = [
  await pool.call.add([2, 3]),
  await pool.call.inc(41),
  await pool.call.greet("gen"),
  await pool.call.shout("loud"),
  await pool.call.twice(21),
  await pool.call.plus([1, 1]),
  await pool.call.dot([new Float64Array([1, 2, 3]), new Float64Array([4, 5, 6])]),
  await pool.call.mid([{ x: 0, y: 0 }, { x: 2, y: 4 }]),
];
const want = [5, 42, "hello gen", "LOUD", 42, 2, 32, { x: 1, y: 2 }];
got.push(await early, await pool.call.sleepy(3000));
want.push("fallback", "fallback");
const tid = await pool.call.where();
// The table's types are checked at the call site: a TypeError, nothing sent.
for (const [name, bad] of [["inc", "41"], ["greet", 5]] as const) {
  const err = await (pool.call as any)[name](bad).then(() => null, (e: unknown) => e);
  if (!(err instanceof TypeError) || !/as the task's type says/.test(err.message)) throw new Error(`${name}(${JSON.stringify(bad)}) should reject with a TypeError, got ${err}`);
}
const t0 = Date.now();
const napped = await pool.call.nap(5000).then(() => null, (e: unknown) => e);
if (!(napped instanceof Error) || !/timed out after 50 ms/.test(napped.message)) throw new Error(`nap(5000) should time out after 50 ms, got ${napped}`);
got.push(await pool.call.dot([new Float64Array([1]), new Float64Array([2])]));
want.push(2);
if (Date.now() - t0 > 2500) throw new Error("the timed-out C task kept its thread");
await pool.shutdown();
if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
if (!(tid > 0)) throw new Error(`expected a worker thread id, got ${tid}`);
console.log("generated table ok");
