// A different project that installed the packed tarball: import, call, check.
import { createPool } from "knitting";
import table from "@knit-test/my-tasks";

const pool = createPool({ threads: 2 })(table);
const sum: number = await pool.call.add([2, 3]);
const p: { x: number; y: number } = await pool.call.unit({ x: 3, y: 4 });
const loud: string = await pool.call.shout("pkg");
const four: number = await pool.call.twice(2);
const threads = new Set(await Promise.all([1, 2, 3, 4, 5, 6].map(() => pool.call.where())));
await pool.shutdown();
const got = JSON.stringify([sum, p, loud, four]);
if (got !== JSON.stringify([5, { x: 0.6, y: 0.8 }, "PKG", 4])) throw new Error(`got ${got}`);
if (threads.has(0)) throw new Error("a call ran on the main thread");
console.log(`package ok: ${got}, worker threads ${[...threads].sort().join(",")}`);
