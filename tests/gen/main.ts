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
];
const want = [5, 42, "hello gen", "LOUD", 42, 2, 32];
got.push(await early, await pool.call.sleepy(3000));
want.push("fallback", "fallback");
const tid = await pool.call.where();
// The table's types are checked at the call site: a TypeError, nothing sent.
for (const [name, bad] of [["inc", "41"], ["greet", 5]] as const) {
  const err = await (pool.call as any)[name](bad).then(() => null, (e: unknown) => e);
  if (!(err instanceof TypeError) || !/as the task's type says/.test(err.message)) throw new Error(`${name}(${JSON.stringify(bad)}) should reject with a TypeError, got ${err}`);
}
await pool.shutdown();
if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
if (!(tid > 0)) throw new Error(`expected a worker thread id, got ${tid}`);
console.log("generated table ok");
