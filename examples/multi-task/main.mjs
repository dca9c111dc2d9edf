// Several tasks in one pool: sync and async, strings, numbers, bytes,
// nested structures, and an importTask the host never loads.
import { createHash } from "node:crypto";
import { createPool, importTask, isMain, task } from "knitting";

export const add = task({ f: ([a, b]) => a + b });
export const greet = (name) => `hello ${name}`;
export const sha256 = task({ f: (bytes) => createHash("sha256").update(bytes).digest("hex") });
export const stats = task({
  f: (values) => {
    const sum = values.reduce((a, b) => a + b, 0);
    return { count: values.length, mean: sum / values.length, max: Math.max(...values) };
  },
});
export const later = task({ f: async (ms) => { await new Promise((r) => setTimeout(r, ms)); return `waited ${ms} ms`; } });

if (isMain) {
  const pool = createPool({ threads: 2, balancer: "firstIdle" })({
    add,
    greet,
    sha256,
    stats,
    later,
    wordCount: importTask({ href: "./words.mjs", name: "wordCount" }),
  });
  const [sum, hello, digest, summary, waited, words] = await Promise.all([
    pool.call.add([20, 22]),
    pool.call.greet("knitting"),
    pool.call.sha256(new TextEncoder().encode("abc")),
    pool.call.stats(new Float64Array([3, 1, 4, 1, 5, 9, 2, 6])),
    pool.call.later(10),
    pool.call.wordCount("the quick brown fox jumps over the lazy dog the end"),
  ]);
  console.log("add:", sum);
  console.log("greet:", hello);
  console.log("sha256:", digest.slice(0, 16) + "…");
  console.log("stats:", summary);
  console.log("later:", waited);
  console.log("wordCount:", Object.fromEntries([...words].slice(0, 3)));
  console.log("multi-task done");
  await pool.shutdown();
}
