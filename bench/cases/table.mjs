// Issue 5: a pool built from knitgen's generated table against the run-time
// path (createPool()({ inc, hello }), which finds the tasks by stack walking
// and sends values through the generic codec), for a number -> number and a
// string -> string task. Same tasks, one worker each, 1 and 25 in flight.
// The two pools take turns over several rounds (one pool alive at a time) so
// drift in the machine's speed hits both; the medians of the rounds are
// reported. bench/run.sh generates table/gen/ before this runs.
import { QUICK, attempt, log, median, quietly, sampleLatency, withTimeout, writeResult } from "../lib/common.mjs";
import { createPool } from "knitting";
import * as tasks from "../table/tasks.ts";

const table = (await import(new URL("../table/gen/tasks.knit.js", import.meta.url).href)).default;
const ROUNDS = QUICK ? 1 : 5;
const LEVELS = [1, 25];
const CASES = [
  ["inc", 41, 42],
  ["hello", "hello", "hello world"],
];
const budget = { warmupMs: 80, budgetMs: QUICK ? 200 : 400, maxSamples: 100_000 };
const PATHS = {
  table: () => createPool({ threads: 1 })(table),
  runtime: () => createPool({ threads: 1 })({ inc: tasks.inc, hello: tasks.hello }),
};

function iteration(call, arg, k) {
  if (k === 1) return () => call(arg);
  return () => {
    const ps = new Array(k);
    for (let i = 0; i < k; i++) ps[i] = call(arg);
    return Promise.all(ps);
  };
}

const samples = {}; // "path task k" -> [{avg, p50, p99, othersPct}]
for (let round = 0; round < ROUNDS; round++) {
  for (const path of round % 2 ? ["runtime", "table"] : ["table", "runtime"]) {
    const pool = PATHS[path]();
    for (const [name, arg, want] of CASES) {
      const got = await withTimeout(pool.call[name](arg), 10_000, `${path} ${name}`);
      if (got !== want) throw new Error(`${path} ${name}(${arg}) = ${got}, want ${want}`);
      for (const k of LEVELS) {
        const r = await attempt(`${path} ${name} k=${k}`, () => quietly(() => sampleLatency(iteration(pool.call[name], arg, k), budget), { tries: 2 }));
        if (!r.error) (samples[`${path} ${name} ${k}`] ??= []).push(r);
      }
    }
    await pool.shutdown();
  }
}

const rows = [];
for (const [name] of CASES) {
  for (const k of LEVELS) {
    const row = { task: name, inflight: k };
    for (const path of Object.keys(PATHS)) {
      const rs = samples[`${path} ${name} ${k}`] ?? [];
      row[path] = { avg: median(rs.map((r) => r.avg)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), roundAvgs: rs.map((r) => r.avg), othersPct: Math.max(0, ...rs.map((r) => r.othersPct ?? 0)) };
    }
    row.speedup = row.runtime.avg / row.table.avg;
    rows.push(row);
    const rounds = (p) => row[p].roundAvgs.map((v) => v.toFixed(2)).join(" ");
    log(`${name.padEnd(6)} k=${String(k).padEnd(2)} table avg ${row.table.avg.toFixed(2)} µs p50 ${row.table.p50.toFixed(2)} | run-time avg ${row.runtime.avg.toFixed(2)} µs p50 ${row.runtime.p50.toFixed(2)} | ${row.speedup.toFixed(2)}×  (rounds: table ${rounds("table")}; run-time ${rounds("runtime")})`);
  }
}
writeResult("table", { unit: "µs per iteration", rounds: ROUNDS, levels: LEVELS, rows });
process.exit(0);
