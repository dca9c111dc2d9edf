// Case 5: idle CPU. Start a pool, make 200 calls, wait out the spin window,
// then read the process's CPU time (all threads) over 2 s of no calls.
import { readFileSync, readdirSync } from "node:fs";
import process from "node:process";
import { QUICK, attempt, log, only, sleep, withTimeout, writeResult } from "../lib/common.mjs";
import { ALL } from "../lib/systems.mjs";

const WINDOW_MS = 2000;
const SETTLE_MS = 300;
const peers = only.length ? only : ["baseline", "knitting", "postMessage", "piscina", "tinypool", "workerpool"];

function threadTicks() {
  const out = {};
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out[tid] = { name, ticks: Number(rest[11]) + Number(rest[12]) };
    }
  } catch {}
  return out;
}

async function idleCpu() {
  const t0 = threadTicks();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(WINDOW_MS);
  const c1 = process.cpuUsage(c0);
  const wall = (performance.now() - w0) * 1000;
  const t1 = threadTicks();
  const busy = [];
  for (const [tid, v] of Object.entries(t1)) {
    const d = v.ticks - (t0[tid]?.ticks ?? 0);
    if (d > 0) busy.push({ thread: v.name, ms: d * 10 });
  }
  return { pct: ((c1.user + c1.system) / wall) * 100, userUs: c1.user, systemUs: c1.system, wallMs: wall / 1000, busyThreads: busy };
}

const rows = [];
const peerInfo = {};
const configs = [];
for (const p of peers) {
  if (p === "knitting") configs.push([p, 1], [p, 2]);
  else configs.push([p, 1]);
}
if (QUICK) configs.splice(3);
for (const [name, threads] of configs) {
  const r = await attempt(name, async () => {
    let sys = null;
    if (name !== "baseline") {
      sys = await withTimeout(ALL[name](threads), 10_000, `${name} start`);
      for (let i = 0; i < 200; i++) await withTimeout(sys.call("echo", "hello"), 5000, `${name} call`);
    }
    await sleep(SETTLE_MS);
    const m = await idleCpu();
    if (sys) await withTimeout(Promise.resolve(sys.close()), 5000, `${name} close`).catch(() => {});
    await sleep(100);
    return m;
  });
  if (r.error) {
    peerInfo[name] = { error: r.error };
    continue;
  }
  rows.push({ peer: name, threads, ...r });
  log(`${name.padEnd(12)} threads=${threads} idle CPU ${r.pct.toFixed(3)}% of one core  ${JSON.stringify(r.busyThreads)}`);
}
writeResult("idle", { unit: "% of one core", windowMs: WINDOW_MS, settleMs: SETTLE_MS, peers: peerInfo, rows });
process.exit(0);
