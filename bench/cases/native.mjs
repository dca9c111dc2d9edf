// Case 6: native tasks. The string echo as a C task on the pool's C thread,
// called through knitgen's dispatch and through libffi, beside the same echo
// in a knitting JS worker and over worker postMessage: the round trip with 1
// and 25 calls in flight, and throughput on 1 and 2 threads. The four take
// turns over the rounds and each figure is the median round (this VM's
// speed drifts); postMessage's throughput is capped like in case 2.
import { QUICK, attempt, log, median, medianRound, quietly, sampleLatency, windowRun, withTimeout, writeResult } from "../lib/common.mjs";
import { knitting, knittingC, postMessage } from "../lib/systems.mjs";

const SYSTEMS = {
  "C, knitgen dispatch": (t) => knittingC(t, "dispatch"),
  "C, libffi": (t) => knittingC(t, "ffi"),
  "JS worker": (t) => knitting(t),
  postMessage: (t) => postMessage(t),
};
const LEVELS = [1, 25];
const ROUNDS = QUICK ? 1 : 3;
const N = QUICK ? 100_000 : 1_000_000;
const CAP_MS = QUICK ? 1000 : 2500;
const budget = { warmupMs: 100, budgetMs: (QUICK ? 300 : 500) / ROUNDS, maxSamples: 100_000 };

const iteration = (sys, k) => (k === 1 ? () => sys.call("echo", "hello") : () => Promise.all(Array.from({ length: k }, () => sys.call("echo", "hello"))));

async function start(name, threads) {
  const sys = await attempt(name, () => withTimeout(SYSTEMS[name](threads), 10_000, `${name} start`));
  if (sys.error) return sys;
  const ok = await attempt(name, async () => {
    const got = await withTimeout(sys.call("echo", "hello"), 5_000, `${name} first call`);
    if (got !== "hello world") throw new Error(`wrong answer ${JSON.stringify(got)}`);
    return true;
  });
  if (ok.error) await attempt(name, () => withTimeout(Promise.resolve(sys.close()), 3000, `${name} close`));
  return ok.error ? ok : sys;
}

const peers = {};
const latency = [];
const throughput = [];
const names = Object.keys(SYSTEMS);

// round trip: one thread each, all alive, taking turns
const live = {};
for (const name of names) {
  const sys = await start(name, 1);
  if (sys.error) peers[name] = { error: sys.error };
  else live[name] = sys;
}
const got = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const k of LEVELS) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      if (!live[name]) continue;
      const r = await attempt(`${name} k=${k}`, () => quietly(() => withTimeout(sampleLatency(iteration(live[name], k), budget), 30_000, `${name} k=${k}`), { tries: QUICK ? 1 : 2 }));
      (got[`${name} ${k}`] ??= []).push(r);
    }
  }
}
for (const name of names) {
  if (!live[name]) continue;
  for (const k of LEVELS) {
    const r = medianRound(got[`${name} ${k}`]);
    latency.push({ system: name, inflight: k, ...r });
    if (!r.error) log(`${name.padEnd(20)} k=${String(k).padEnd(2)} avg ${r.avg.toFixed(2)} µs  p50 ${r.p50.toFixed(2)}  p99 ${r.p99.toFixed(2)}`);
  }
  await attempt(name, () => withTimeout(Promise.resolve(live[name].close()), 5000, `${name} close`));
}

// throughput: a window of 1024 calls in flight
for (const threads of [1, 2]) {
  for (const name of names) {
    if (peers[name]?.error) continue;
    const sys = await start(name, threads);
    if (sys.error) {
      peers[name] = { error: sys.error };
      continue;
    }
    const capped = name === "postMessage";
    const r = await attempt(name, async () => {
      await withTimeout(windowRun(() => sys.call("echo", "hello"), 20_000, 500), 10_000, `${name} warmup`);
      const rounds = [];
      for (let i = 0; i < (capped ? 1 : ROUNDS); i++) {
        const one = await quietly(() => withTimeout(windowRun(() => sys.call("echo", "hello"), N, capped ? CAP_MS : 60_000), 70_000, `${name} run`), { tries: 2 });
        rounds.push({ ...one, callsPerSec: (one.calls / one.ms) * 1000 });
      }
      const mid = median(rounds.map((x) => x.callsPerSec));
      return { ...rounds.find((x) => x.callsPerSec === mid), rounds: rounds.map((x) => x.callsPerSec) };
    });
    await attempt(name, () => withTimeout(Promise.resolve(sys.close()), 5000, `${name} close`));
    if (r.error) {
      peers[name] = { error: r.error };
      continue;
    }
    throughput.push({ system: name, threads, ...r });
    log(`${name.padEnd(20)} threads=${threads} ${(r.callsPerSec / 1e6).toFixed(3)} M calls/s (rounds ${r.rounds.map((x) => (x / 1e6).toFixed(2)).join(" ")})`);
  }
}
writeResult("native", { unit: "µs per iteration; calls/s", levels: LEVELS, rounds: ROUNDS, n: N, capMs: CAP_MS, systems: names, peers, latency, throughput });
process.exit(0);
