// Soak: a steady mixed load on one pool for a fixed time, reporting
// throughput and memory every few seconds, then a verdict on RSS growth.
//
//   soak.mjs --seconds 60 [--threads 2] [--inflight 256] [--every 5]
//
// Load: small echoes, values at the 448-byte inline edge, 64 KiB arena
// payloads, an occasional 1 MiB one, async tasks, throwing tasks and calls
// aborted in flight. Every result is checked; a wrong one ends the run.
//
// Verdict: RSS is sampled each period. The first quarter of the run is
// warm-up (arenas commit, heaps and JIT reach their working size). The
// baseline is the highest RSS of the second quarter; the run is "stable" if
// the highest RSS of the last quarter exceeds it by at most max(10%, 32 MiB),
// else "GROWING". The slope over the second half is printed too. The exit
// status is 0 for stable, 1 for GROWING or a wrong result.
import { createPool, isMain, task } from "knitting";

export const echo = task({ f: (x) => x });
export const later = task({ f: async (x) => { await new Promise((r) => setTimeout(r, 0)); return x; } });
export const fail = task({ f: (x) => { throw new RangeError(`soak ${x}`); } });
export const sum = task({ f: (a) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s; } });
export const slow = task({ f: async (ms) => { await new Promise((r) => setTimeout(r, ms)); return ms; }, abortSignal: { hasAborted: true } });

function args() {
  const o = { seconds: 60, threads: 2, inflight: 256, every: 5 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i].replace(/^--/, "");
    if (!(k in o) || a[i + 1] === undefined || !(Number(a[i + 1]) > 0)) {
      console.error(`soak.mjs: bad argument ${a[i]} (want --seconds N --threads N --inflight N --every N)`);
      process.exit(2);
    }
    o[k] = Number(a[++i]);
  }
  return o;
}

const MiB = 1024 * 1024;
const mib = (b) => (b / MiB).toFixed(1);

if (isMain) {
  const { seconds, threads, inflight, every } = args();
  const runtime = process.env.KNIT_SOAK_RUNTIME ?? (globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : `node ${process.versions.node}`);
  const pool = createPool({ threads })({ echo, later, fail, sum, slow });

  const edge = new Uint8Array(440).fill(7);
  const arena = new Float64Array(8 * 1024).fill(1.5); // 64 KiB
  const big = new Uint8Array(MiB).fill(3);

  let calls = 0, errors = 0, wrong = null, stop = false, seq = 0;

  async function one() {
    const n = seq++;
    const k = n % 100;
    try {
      if (k < 50) {
        // A fresh object each call: a call queued behind full lanes is
        // encoded when it is sent, so mutating a shared one would show.
        const r = await pool.call.echo({ id: n, name: "soak", tags: ["a", "b"], when: new Date(n) });
        if (r.id !== n) wrong = `echo ${n} came back as ${r.id}`;
      } else if (k < 70) {
        const r = await pool.call.echo(edge);
        if (r.length !== 440 || r[439] !== 7) wrong = "the 440-byte array changed";
      } else if (k < 80) {
        if ((await pool.call.sum(arena)) !== arena.length * 1.5) wrong = "the 64 KiB sum is off";
      } else if (k < 90) {
        if ((await pool.call.later(`s${n}`)) !== `s${n}`) wrong = "async echo changed";
      } else if (k < 97) {
        try {
          await pool.call.fail(n);
          wrong = "a throwing task resolved";
        } catch (e) {
          if (!(e instanceof RangeError) || e.message !== `soak ${n}`) wrong = `fail ${n} rejected with ${e}`;
          errors++;
        }
      } else if (k < 99) {
        const ac = new AbortController();
        const p = pool.call.slow(50, { signal: ac.signal });
        ac.abort(new Error("soak abort"));
        try {
          await p;
        } catch {
          errors++;
        }
      } else if (n % 1000 === 999) {
        const r = await pool.call.echo(big);
        if (r.length !== MiB || r[MiB - 1] !== 3) wrong = "the 1 MiB array changed";
      } else {
        await pool.call.echo(n);
      }
    } catch (e) {
      wrong = `call ${n} (${k}) rejected: ${e?.stack ?? e}`;
    }
    calls++;
  }

  async function pump() {
    while (!stop && !wrong) await one();
  }

  console.log(`# soak: ${runtime}, ${threads} threads, ${inflight} calls in flight, ${seconds} s, a line every ${every} s`);
  console.log("#    t(s)   calls/s     total   rejected   rss(MiB)  heap used/total(MiB)  external(MiB)");
  const t0 = performance.now();
  const samples = [];
  let lastCalls = 0, lastT = t0;
  const timer = setInterval(() => {
    const now = performance.now();
    const m = process.memoryUsage();
    const rate = ((calls - lastCalls) / (now - lastT)) * 1000;
    lastCalls = calls;
    lastT = now;
    const t = (now - t0) / 1000;
    samples.push({ t, rss: m.rss, rate });
    console.log(`${t.toFixed(0).padStart(9)} ${rate.toFixed(0).padStart(9)} ${String(calls).padStart(9)} ${String(errors).padStart(10)}` +
      ` ${mib(m.rss).padStart(10)} ${`${mib(m.heapUsed)}/${mib(m.heapTotal)}`.padStart(20)} ${mib(m.external).padStart(14)}`);
    if (t >= seconds) stop = true;
  }, every * 1000);

  await Promise.all(Array.from({ length: inflight }, pump));
  clearInterval(timer);
  const secs = (performance.now() - t0) / 1000;
  await pool.shutdown();

  const q = Math.max(1, Math.floor(samples.length / 4));
  const base = Math.max(...samples.slice(q, 2 * q).map((s) => s.rss));
  const end = Math.max(...samples.slice(-q).map((s) => s.rss));
  const allowed = Math.max(base * 0.1, 32 * MiB);
  const rates = samples.map((s) => s.rate);
  console.log(`# ${calls} calls in ${secs.toFixed(0)} s: ${(calls / secs).toFixed(0)} calls/s on average` +
    ` (per ${every} s: min ${Math.min(...rates).toFixed(0)}, max ${Math.max(...rates).toFixed(0)}); ${errors} rejected on purpose`);
  if (wrong) {
    console.log(`# verdict: FAILED: ${wrong}`);
    process.exit(1);
  }
  if (samples.length < 8) {
    console.log(`# verdict: too short to judge RSS (${samples.length} samples; run at least ${8 * every} s)`);
    process.exit(0);
  }
  // Least-squares slope of RSS over the second half, in MiB per minute.
  const half = samples.slice(Math.floor(samples.length / 2));
  const mt = half.reduce((a, s) => a + s.t, 0) / half.length, mr = half.reduce((a, s) => a + s.rss, 0) / half.length;
  const slope = half.reduce((a, s) => a + (s.t - mt) * (s.rss - mr), 0) / half.reduce((a, s) => a + (s.t - mt) ** 2, 0);
  const growth = end - base;
  const verdict = growth <= allowed ? "stable" : "GROWING";
  console.log(`# verdict: RSS ${verdict}: second quarter peaked at ${mib(base)} MiB, last quarter at ${mib(end)} MiB` +
    ` (${growth >= 0 ? "+" : ""}${mib(growth)} MiB; allowed +${mib(allowed)} MiB); second half slope ${(slope * 60 / MiB).toFixed(1)} MiB/min`);
  process.exit(verdict === "stable" ? 0 : 1);
}
