// Shared helpers for the bench cases: runtime identity, timing, stats, output.
import { readFileSync, writeFileSync } from "node:fs";
import { measure } from "mitata";
import process from "node:process";

export const RUNTIME = globalThis.Bun ? "bun" : globalThis.Deno ? "deno" : `node${process.versions.node.split(".")[0]}`;
export const VERSION = globalThis.Bun ? Bun.version : globalThis.Deno ? Deno.version.deno : process.versions.node;
export const args = process.argv.slice(2);
export const QUICK = args.includes("--quick");
export const OUT = args.find((a) => !a.startsWith("--"));
export const only = (args.find((a) => a.startsWith("--only=")) ?? "").slice(7).split(",").filter(Boolean);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// % of all cores busy (other processes) in the second before this run, measured
// by run.sh: competing processes on the 2 cores make spin-based IPC look worse.
const busyBefore = process.env.BENCH_BUSY === undefined ? null : Number(process.env.BENCH_BUSY) / 100;

export function loadavg() {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

// CPU used by other processes while we measure. Knitting spins a core per
// busy thread, so on 2 cores anything else running changes its figures a lot.
function snap() {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const st = readFileSync("/proc/self/stat", "utf8");
    const r = st.slice(st.lastIndexOf(")") + 2).split(" ");
    return { busy: f[0] + f[1] + f[2] + f[5] + f[6] + f[7], total: f.reduce((a, b) => a + b, 0), self: Number(r[11]) + Number(r[12]) };
  } catch {
    return null;
  }
}
export function othersMeter() {
  const a = snap();
  // % of the whole machine (all cores) used by other processes since a
  return () => {
    const b = snap();
    if (!a || !b || b.total === a.total) return null;
    return Math.max(0, (100 * (b.busy - a.busy - (b.self - a.self))) / (b.total - a.total));
  };
}

// Runs measure() until other processes used at most maxOthers % of the
// machine during it (up to `tries` times), keeping the quietest attempt.
export async function quietly(measure, { tries = 3, maxOthers = 10, pauseMs = 1500 } = {}) {
  let best = null;
  for (let i = 0; i < tries; i++) {
    const done = othersMeter();
    const r = await measure();
    const others = done();
    if (!best || (others ?? 0) < (best.othersPct ?? 0)) best = { ...r, othersPct: others, attempts: i + 1 };
    if (others === null || others <= maxOthers) break;
    log(`other processes used ${others.toFixed(0)}% of the machine during that measurement; retrying`);
    await sleep(pauseMs);
  }
  return best;
}

// Per-iteration samples (ms) of fn, via mitata with batching turned off so
// every sample is one iteration and the tails are real.
export async function sampleLatency(fn, { warmupMs = 150, budgetMs = 600, maxSamples = 200_000 } = {}) {
  const w0 = performance.now();
  while (performance.now() - w0 < warmupMs) await fn();
  const s = await measure(fn, {
    batch_threshold: -1, // never batch: one sample per iteration
    min_samples: 20,
    max_samples: maxSamples,
    min_cpu_time: budgetMs * 1e6,
    warmup_samples: 0,
    gc: false,
  });
  // mitata reports nanoseconds
  const us = (ns) => ns / 1e3;
  return { avg: us(s.avg), p50: us(s.p50), p75: us(s.p75), p99: us(s.p99), p999: us(s.p999), min: us(s.min), max: us(s.max), n: s.samples.length };
}

// Keeps `window` calls of call() in flight, each completion issuing the next,
// until n have been issued or capMs has passed; resolves when all are done.
export function windowRun(call, n, capMs, window = 1024) {
  return new Promise((resolve, reject) => {
    let sent = 0, done = 0, stop = false;
    const t0 = performance.now();
    const deadline = t0 + capMs;
    const onDone = () => {
      done++;
      if ((done & 1023) === 0 && performance.now() > deadline) stop = true;
      if (!stop && sent < n) issue();
      else if (done === sent) resolve({ calls: done, ms: performance.now() - t0, capped: sent < n });
    };
    const issue = () => {
      sent++;
      call().then(onDone, reject);
    };
    for (let i = 0; i < window && i < n; i++) issue();
  });
}

// Of a system's latency rounds, the one with the median average, with every
// round's average beside it.
export function medianRound(rs) {
  const ok = rs.filter((r) => !r.error);
  if (!ok.length) return rs[0];
  const pick = [...ok].sort((a, b) => a.avg - b.avg)[(ok.length - 1) >> 1];
  return { ...pick, roundAvgs: ok.map((r) => r.avg) };
}

export function median(xs) {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[(a.length - 1) >> 1] : NaN;
}

export function writeResult(caseName, data) {
  const out = { case: caseName, runtime: RUNTIME, version: VERSION, loadavg: loadavg(), busyBefore, othersPctDuringCase: caseMeter(), when: new Date().toISOString(), quick: QUICK, ...data };
  const text = JSON.stringify(out, null, 1);
  if (OUT) writeFileSync(OUT, text);
  else console.log(text);
}

export function log(...a) {
  console.error(`[${RUNTIME}]`, ...a);
}

// Wrap a setup so a peer that cannot run here is recorded, not fatal.
export async function attempt(name, fn) {
  try {
    return await fn();
  } catch (err) {
    log(`${name}: unavailable: ${err?.message ?? err}`);
    return { error: String(err?.message ?? err).split("\n")[0].slice(0, 200) };
  }
}

export function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

const caseMeter = othersMeter();
