// The app: one pool over tasks from two modules. Bundled by build.mjs; the
// knitting plugin makes createPool use the table knitgen generated.
import { createPool } from "knitting";
import { threadId } from "node:worker_threads";
import { fib, whereAmI } from "./math.ts";
import { slugify, stats } from "./text.ts";

const pool = createPool({ threads: 2 })({ fib, whereAmI, slugify, stats });
const [f, slug, st] = await Promise.all([
  pool.call.fib(30),
  pool.call.slugify("Hello, Bundled World!"),
  pool.call.stats("knit one purl two"),
]);
const threads = new Set(await Promise.all(Array.from({ length: 16 }, () => pool.call.whereAmI())));
await pool.shutdown();

console.log(`fib(30) = ${f}, slug = ${slug}, stats = ${JSON.stringify(st)}`);
console.log(`main thread ${threadId}, calls ran on threads ${[...threads].sort().join(",")}`);
if (f !== 832040 || slug !== "hello-bundled-world" || st.words !== 4 || st.longest !== "knit") throw new Error("wrong answers");
if (threads.has(threadId) || threads.size === 0) throw new Error("calls did not run on worker threads");
console.log("bundled-esbuild ok");
