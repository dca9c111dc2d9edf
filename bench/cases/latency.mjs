// Case 1: latency with 1, 25 and 50 calls in flight, one worker each.
// One iteration = k concurrent calls awaited with Promise.all; we report the
// per-iteration time (like the original's IPC bench): avg, p50, p99, p99.9.
import { QUICK, RUNTIME, attempt, log, only, quietly, sampleLatency, withTimeout, writeResult } from "../lib/common.mjs";
import { ALL } from "../lib/systems.mjs";

const LEVELS = [1, 25, 50];
const peers = only.length ? only : Object.keys(ALL);
const payloads = QUICK ? ["string"] : ["string", "object"];
const budgets = QUICK ? { string: { warmupMs: 120, budgetMs: 550 } } : { string: { warmupMs: 100, budgetMs: 500, maxSamples: 120_000 }, object: { warmupMs: 80, budgetMs: 300, maxSamples: 80_000 } };

function iteration(sys, payload, k) {
  if (payload === "string") {
    if (k === 1) return () => sys.call("echo", "hello");
    return () => {
      const ps = new Array(k);
      for (let i = 0; i < k; i++) ps[i] = sys.call("echo", "hello");
      return Promise.all(ps);
    };
  }
  let id = 0;
  if (k === 1) return () => sys.call("echoObj", { msg: "hello", id: id++ });
  return () => {
    const ps = new Array(k);
    for (let i = 0; i < k; i++) ps[i] = sys.call("echoObj", { msg: "hello", id: id++ });
    return Promise.all(ps);
  };
}

const rows = [];
const peerInfo = {};
for (const name of peers) {
  const sys = await attempt(name, () => withTimeout(ALL[name](1), 10_000, `${name} start`));
  if (sys.error) {
    peerInfo[name] = { error: sys.error };
    continue;
  }
  // a peer that starts but never answers is recorded as not working
  const ok = await attempt(name, async () => {
    const got = await withTimeout(sys.call("echo", "hello"), 5_000, `${name} first call`);
    const obj = await withTimeout(sys.call("echoObj", { msg: "hello", id: 7 }), 5_000, `${name} first call`);
    if (got !== "hello world" || obj?.msg !== "hello world" || obj?.id !== 7) throw new Error(`wrong answer ${JSON.stringify([got, obj])}`);
    return true;
  });
  if (ok.error) {
    peerInfo[name] = { error: ok.error };
    await attempt(name, () => withTimeout(Promise.resolve(sys.close()), 3000, `${name} close`));
    continue;
  }
  peerInfo[name] = { detail: sys.detail ?? null };
  for (const payload of payloads) {
    for (const k of LEVELS) {
      const r = await attempt(`${name} ${payload} k=${k}`, () => quietly(() => withTimeout(sampleLatency(iteration(sys, payload, k), budgets[payload]), 30_000, `${name} k=${k}`), { tries: QUICK ? 1 : 3 }));
      rows.push({ peer: name, payload, inflight: k, ...r });
      if (!r.error) log(`${name.padEnd(12)} ${payload.padEnd(6)} k=${String(k).padEnd(2)} avg ${r.avg.toFixed(1)} µs  p50 ${r.p50.toFixed(1)}  p99 ${r.p99.toFixed(1)}  n=${r.n}  others ${r.othersPct?.toFixed(0)}%`);
    }
  }
  await attempt(name, () => withTimeout(Promise.resolve(sys.close()), 5000, `${name} close`));
}
writeResult("latency", { unit: "µs per iteration", levels: LEVELS, payloads, peers: peerInfo, rows });
process.exit(0);
