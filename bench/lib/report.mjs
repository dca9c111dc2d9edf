// Merge the per-runtime raw results into bench/results/<case>.{json,md} and
// docs/bench-*.svg. Usage: node report.mjs RAWDIR [--quick]
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { groupedBars, logLines } from "./svg.mjs";

const rawDir = process.argv[2];
const QUICK = process.argv.includes("--quick");
const benchDir = new URL("../", import.meta.url).pathname;
const resultsDir = QUICK ? `${benchDir}results/quick/` : `${benchDir}results/`;
const docsDir = new URL("../../docs/", import.meta.url).pathname;
mkdirSync(resultsDir, { recursive: true });

const ORDER = ["node24", "bun", "deno", "node20"];
const LABEL = { node24: "node 24", bun: "bun", deno: "deno", node20: "node 20" };
const PEERS = ["knitting", "postMessage", "WebSocket", "HTTP", "piscina", "tinypool", "workerpool"];
const KEY = { knitting: "knitting", postMessage: "postMessage", websocket: "WebSocket", http: "HTTP", piscina: "piscina", tinypool: "tinypool", workerpool: "workerpool", baseline: "no pool (baseline)" };
const T = { ratio1: 25, ratioN: 6, tail: 3, tput: 3e6, idlePct: 0.05 };

// ---- load raw ------------------------------------------------------------
const raw = {};
for (const f of readdirSync(rawDir)) {
  const m = f.match(/^(\w+)\.(\w+)\.json$/);
  if (!m) continue;
  try {
    (raw[m[1]] ??= {})[m[2]] = JSON.parse(readFileSync(`${rawDir}/${f}`, "utf8"));
  } catch (e) {
    console.error(`report: cannot read ${f}: ${e.message}`);
  }
}
let build = null;
try {
  build = JSON.parse(readFileSync(`${rawDir}/build.json`, "utf8"));
} catch {}
const runtimesOf = (c) => ORDER.filter((r) => raw[c]?.[r]);

function cpuModel() {
  try {
    const m = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/);
    if (m) return m[1].trim();
  } catch {}
  return cpus()[0]?.model ?? "unknown CPU";
}
const versions = {};
for (const c of Object.values(raw)) for (const [r, d] of Object.entries(c)) versions[r] = d.version;
const machine = {
  cpu: cpuModel(),
  cores: cpus().length,
  runtimes: Object.fromEntries(ORDER.filter((r) => versions[r]).map((r) => [r, versions[r]])),
  build,
};
function machineLine(c) {
  const v = ORDER.filter((r) => raw[c]?.[r]).map((r) => `${LABEL[r]} ${raw[c][r].version}`).join(", ");
  const load = ORDER.filter((r) => raw[c]?.[r]).map((r) => `${LABEL[r]} ${raw[c][r].busyBefore == null ? "?" : `${Math.round(raw[c][r].busyBefore * 100)}%`} (load avg ${raw[c][r].loadavg?.[0]?.toFixed(2) ?? "?"})`).join(", ");
  const during = ORDER.filter((r) => raw[c]?.[r]?.othersPctDuringCase != null).map((r) => `${LABEL[r]} ${raw[c][r].othersPctDuringCase.toFixed(0)}%`).join(", ");
  const when = Object.values(raw[c] ?? {})[0]?.when?.slice(0, 16).replace("T", " ");
  const b = build ? ` · knitting at commit ${build.head} (package ${build.package}, built ${build.built} UTC${build.changedDuringRun ? ", REBUILT DURING THE RUN" : ""})` : "";
  return `Machine: ${machine.cpu}, ${machine.cores} cores · ${v} · CPU busy (all cores, other processes) in the second before each runtime's run: ${load}; during the whole case: ${during} · ${when} UTC${b}${QUICK ? " · quick mode" : ""}`;
}

// ---- formatting ------------------------------------------------------------
const f1 = (v) => (v === undefined || v === null || Number.isNaN(v) ? "–" : v >= 1000 ? Math.round(v).toLocaleString("en-US") : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fx = (v) => (v === undefined || !Number.isFinite(v) ? "–" : v >= 100 ? `${v.toFixed(0)}×` : v >= 0.1 ? `${v.toFixed(1)}×` : `${v.toFixed(2)}×`);
const mark = (ok) => (ok === undefined ? "–" : ok ? "met" : "**missed**");
const table = (head, rows) => [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
// † marks a figure taken while other processes used > 10% of the machine
const LOADED = 10;
const dag = (x) => (x && x.othersPct > LOADED ? "†" : "");
const DAGGER_NOTE = `† other processes used more than ${LOADED}% of the machine (all cores) while that figure was measured, even after retries; knitting spins a core per busy thread, so treat it as taken under load.`;
const snippets = {};
const write = (name, data) => {
  writeFileSync(`${resultsDir}${name}`, data);
  const m = name.match(/^(\w+)\.md$/);
  if (m) {
    // for docs/benchmarks.md: no title, no per-percentile detail, headings one level down
    let body = data.split("\n").slice(1).join("\n");
    const cut = body.indexOf("## Every peer");
    if (cut >= 0) body = body.slice(0, cut) + `Every peer with every percentile: [bench/results/${name}](../bench/results/${name}).\n`;
    snippets[m[1]] = body.replace(/^### /gm, "#### ").replace(/^## /gm, "### ").trim();
  }
};
const targets = [];

function notRun(c) {
  const lines = [];
  for (const r of runtimesOf(c)) {
    for (const [p, info] of Object.entries(raw[c][r].peers ?? {})) if (info?.error) lines.push(`- ${KEY[p] ?? p} on ${LABEL[r]}: ${info.error}`);
  }
  return lines.length ? `\nDid not run (the peer failed on that runtime):\n\n${lines.join("\n")}\n` : "";
}

// ---- latency ---------------------------------------------------------------
function latency() {
  const c = "latency";
  const rts = runtimesOf(c);
  if (!rts.length) return;
  const get = (r, peer, payload, k) => raw[c][r].rows.find((x) => KEY[x.peer] === peer && x.payload === payload && x.inflight === k && !x.error);
  const md = [`# Latency: calls in flight on one worker`, "", machineLine(c), "",
    "One iteration = k concurrent calls awaited with `Promise.all`; figures are µs per iteration (mitata, batching off, so every sample is one iteration). " +
    "× = that peer's average ÷ knitting's average (how many times longer the peer takes). Same worker count (1) and the same task everywhere. " +
    `knitting and postMessage take turns over ${raw[c][rts[0]].rounds ?? 3} rounds (this VM's speed drifts by up to 1.7× over minutes) and each of their figures is the round with the median average; the other peers are measured once.`];
  const payloads = [...new Set(rts.flatMap((r) => raw[c][r].payloads))];
  const levels = raw[c][rts[0]].levels;
  for (const payload of payloads) {
    const peers = PEERS.filter((p) => rts.some((r) => levels.some((k) => get(r, p, payload, k))));
    md.push("", `## ${payload === "string" ? 'String echo ("hello" → "hello world")' : "Object echo ({ msg, id })"}: averages`, "");
    const rows = [];
    for (const r of rts) for (const k of levels) {
      const kn = get(r, "knitting", payload, k);
      rows.push([LABEL[r], k, ...peers.flatMap((p) => {
        const x = get(r, p, payload, k);
        if (p === "knitting") return [f1(x?.avg) + dag(x)];
        return [f1(x?.avg) + dag(x), x && kn ? fx(x.avg / kn.avg) : "–"];
      })]);
    }
    md.push(table(["runtime", "in flight", ...peers.flatMap((p) => (p === "knitting" ? ["knitting µs"] : [`${p} µs`, "×"]))], rows));
    md.push("", `### Targets (${payload})`, "");
    const trows = [];
    for (const r of rts) for (const k of levels) {
      const kn = get(r, "knitting", payload, k), pm = get(r, "postMessage", payload, k);
      if (!kn) continue;
      const want = k === 1 ? T.ratio1 : T.ratioN;
      const ratio = pm ? pm.avg / kn.avg : undefined;
      const okR = ratio === undefined ? undefined : ratio >= want;
      const okT = kn.p99 <= T.tail * kn.p50;
      trows.push([LABEL[r], k, f1(kn.avg) + dag(kn), f1(pm?.avg) + dag(pm), fx(ratio), `≥ ${want}×`, mark(okR), f1(kn.p50), f1(kn.p99), fx(kn.p99 / kn.p50), mark(okT)]);
      if (payload === "string") {
        const d = dag(kn) || dag(pm);
        targets.push({ target: `≥${want}× vs postMessage, ${k} in flight (string echo)`, runtime: LABEL[r], value: `${fx(ratio)}${d} (${f1(kn.avg)} vs ${f1(pm?.avg)} µs)`, met: okR });
        targets.push({ target: `p99 ≤ 3× p50, ${k} in flight (string echo)`, runtime: LABEL[r], value: `${f1(kn.p99)} / ${f1(kn.p50)} µs = ${fx(kn.p99 / kn.p50)}${dag(kn)}`, met: okT });
      }
    }
    md.push(table(["runtime", "in flight", "knitting avg", "postMessage avg", "×", "target", "", "knitting p50", "p99", "p99/p50", "p99 ≤ 3× p50"], trows));
  }
  md.push("", "## Every peer, every percentile (µs per iteration)");
  for (const r of rts) for (const payload of raw[c][r].payloads) {
    md.push("", `### ${LABEL[r]}, ${payload} echo`, "");
    const rows = [];
    for (const p of PEERS) for (const k of levels) {
      const x = get(r, p, payload, k);
      if (x) rows.push([p, k, f1(x.avg), f1(x.p50), f1(x.p75), f1(x.p99), f1(x.p999), x.n.toLocaleString("en-US"), x.othersPct == null ? "?" : `${x.othersPct.toFixed(0)}%${dag(x)}`]);
    }
    md.push(table(["peer", "in flight", "avg", "p50", "p75", "p99", "p99.9", "samples", "others' CPU"], rows));
  }
  const details = [];
  for (const r of rts) for (const [p, info] of Object.entries(raw[c][r].peers ?? {})) if (info?.detail) details.push(`- ${KEY[p]} on ${LABEL[r]}: ${info.detail}`);
  md.push("", DAGGER_NOTE, "", "\"others' CPU\" is the share of the whole machine used by other processes during that row's measurement; a row is retried up to 3 times while it is above 10%.");
  md.push("", "How the peers were run:", "", ...[...new Set(details)]);
  md.push(notRun(c));
  write("latency.md", md.join("\n"));
  write("latency.json", JSON.stringify({ case: c, machine, runtimes: raw[c] }, null, 1));
  // chart: string echo averages
  const series = PEERS.filter((p) => rts.some((r) => levels.some((k) => get(r, p, "string", k))));
  const svg = groupedBars({
    title: "Latency: string echo, one worker, µs per iteration (lower is better)",
    subtitle: `${machine.cpu}, ${machine.cores} cores; k calls in flight awaited with Promise.all; average`,
    unit: "µs",
    series,
    panels: rts.map((r) => ({ title: LABEL[r], groups: levels.map((k) => ({ label: `${k} in flight`, bars: series.map((p) => ({ series: p, value: get(r, p, "string", k)?.avg })) })) })),
  });
  if (!QUICK) writeFileSync(`${docsDir}bench-latency.svg`, svg);
}

// ---- quick (latency, knitting vs postMessage) -----------------------------------
function quick() {
  const c = "latency";
  const rts = runtimesOf(c);
  const get = (r, peer, k) => raw[c][r].rows.find((x) => KEY[x.peer] === peer && x.payload === "string" && x.inflight === k && !x.error);
  const rows = [];
  for (const r of rts) for (const k of raw[c][r].levels) {
    const kn = get(r, "knitting", k), pm = get(r, "postMessage", k);
    const want = k === 1 ? T.ratio1 : T.ratioN;
    const ratio = kn && pm ? pm.avg / kn.avg : undefined;
    rows.push([LABEL[r], k, f1(kn?.avg) + dag(kn), f1(kn?.p99), f1(pm?.avg) + dag(pm), fx(ratio), `≥ ${want}×: ${ratio === undefined ? "–" : ratio >= want ? "met" : "missed"}`]);
  }
  const md = [machineLine(c), "", "String echo, one worker; µs per iteration of k calls in flight (Promise.all); × = postMessage avg ÷ knitting avg.", "",
    table(["runtime", "in flight", "knitting avg µs", "knitting p99", "postMessage avg µs", "×", "target"], rows),
    ...(rts.some((r) => raw[c][r].rows.some((x) => x.othersPct > LOADED)) ? ["", DAGGER_NOTE] : [])].join("\n");
  write("quick.md", md + "\n");
  write("quick.json", JSON.stringify({ machine, runtimes: raw[c] }, null, 1));
  console.log(md);
}

// ---- throughput --------------------------------------------------------------
function throughput() {
  const c = "throughput";
  const rts = runtimesOf(c);
  if (!rts.length) return;
  const any = raw[c][rts[0]];
  const md = [`# Throughput: tiny calls (string echo)`, "", machineLine(c), "",
    `A window of ${any.window} calls is kept in flight; each completion issues the next call; 20,000 calls warm up first. knitting runs ${any.n.toLocaleString("en-US")} calls; ` +
    `every other peer stops issuing after ${any.capMs / 1000} s and is reported from the calls it completed (marked * when it did not reach ${any.n.toLocaleString("en-US")}). ` +
    `Every peer that completes them runs ${any.rounds ?? 1} rounds and the median round is shown (knitting's rounds in their own column); a capped figure is one ${any.capMs / 1000} s round. × = knitting ÷ peer.`, ""];
  const peers = ["knitting", "postMessage", "piscina", "tinypool", "workerpool"];
  const get = (r, p, t) => raw[c][r].rows.find((x) => x.peer === p && x.threads === t);
  const rows = [];
  for (const r of rts) for (const t of [1, 2]) {
    const kn = get(r, "knitting", t);
    rows.push([LABEL[r], t, ...peers.flatMap((p) => {
      const x = get(r, p, t);
      const v = x ? `${(x.callsPerSec / 1e6).toFixed(3)}${x.capped ? "*" : ""}${dag(x)}` : "–";
      if (p !== "knitting") return [v, x && kn ? fx(kn.callsPerSec / x.callsPerSec) : "–"];
      const rounds = x?.rounds?.length > 1 ? x.rounds.map((y) => (y / 1e6).toFixed(2)).join(" / ") : "–";
      return [v, rounds];
    })]);
  }
  md.push(table(["runtime", "threads", ...peers.flatMap((p) => (p === "knitting" ? ["knitting M calls/s", "rounds"] : [`${p} M/s`, "×"]))], rows));
  const kn24 = raw[c].node24 && get("node24", "knitting", 2);
  if (kn24) {
    const ok = kn24.callsPerSec >= T.tput;
    targets.push({ target: "≥ 3M calls/s, 2 threads", runtime: "node 24", value: `${(kn24.callsPerSec / 1e6).toFixed(2)}M/s${dag(kn24)}`, met: ok });
    md.push("", DAGGER_NOTE);
    md.push("", `Target: ≥ 3 M calls/s with 2 threads on node 24: ${(kn24.callsPerSec / 1e6).toFixed(2)} M/s, ${mark(ok)}.`);
  }
  md.push(notRun(c));
  write("throughput.md", md.join("\n"));
  write("throughput.json", JSON.stringify({ case: c, machine, runtimes: raw[c] }, null, 1));
  const series = peers.filter((p) => rts.some((r) => get(r, p, 1)));
  if (!QUICK) writeFileSync(`${docsDir}bench-throughput.svg`, groupedBars({
    title: "Throughput: tiny string-echo calls per second (higher is better)",
    subtitle: `${machine.cpu}, ${machine.cores} cores; window of ${any.window} calls in flight`,
    unit: "calls/s", series,
    panels: rts.map((r) => ({ title: LABEL[r], groups: [1, 2].map((t) => ({ label: `${t} thread${t > 1 ? "s" : ""}`, bars: series.map((p) => ({ series: p, value: get(r, p, t)?.callsPerSec })) })) })),
  }));
}

// ---- payload -------------------------------------------------------------------
function payload() {
  const c = "payload";
  const rts = runtimesOf(c);
  if (!rts.length) return;
  const any = raw[c][rts[0]];
  const size = (b) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : b >= 1024 ? `${b / 1024} KiB` : `${b} B`);
  const md = [`# Payload sweep: echo of the value itself, one call in flight`, "", machineLine(c), "",
    "Median µs per round trip (the value goes to the worker and comes back). × = postMessage ÷ knitting (above 1: knitting is faster). " +
    "knitting runs with `payload.maxPayloadBytes` = 16 MiB so the 8 MiB string and object cases fit with their framing. The object is an array of small records `{ id, name, score, ok, tags }` sized by its JSON length."];
  const get = (r, p, kind, b) => raw[c][r].rows.find((x) => x.peer === p && x.kind === kind && x.bytes === b);
  for (const kind of any.kinds) {
    md.push("", `## ${kind}`, "");
    const rows = [];
    for (const b of any.sizes) {
      rows.push([size(b), ...rts.flatMap((r) => {
        const k = get(r, "knitting", kind, b), p = get(r, "postMessage", kind, b);
        return [k?.error ? "error" : f1(k?.us), p?.error ? "error" : f1(p?.us), k?.us && p?.us ? fx(p.us / k.us) : "–"];
      })]);
    }
    md.push(table(["size", ...rts.flatMap((r) => [`${LABEL[r]} knitting`, "postMessage", "×"])], rows));
  }
  const errs = rts.flatMap((r) => raw[c][r].rows.filter((x) => x.error).map((x) => `- ${x.peer} on ${LABEL[r]}, ${x.kind} ${size(x.bytes)}: ${x.error}`));
  if (errs.length) md.push("", "Errors:", "", ...errs);
  md.push(notRun(c));
  write("payload.md", md.join("\n"));
  write("payload.json", JSON.stringify({ case: c, machine, runtimes: raw[c] }, null, 1));
  const dashes = { "node 24": "", bun: "6 3", deno: "2 2", "node 20": "8 2 2 2" };
  if (!QUICK) writeFileSync(`${docsDir}bench-payload.svg`, logLines({
    title: "Payload sweep: median round trip, µs (lower is better)",
    subtitle: `${machine.cpu}, ${machine.cores} cores; echo of the value, one call in flight; line style = runtime`,
    xUnit: "payload bytes", yUnit: "µs per round trip",
    series: ["knitting", "postMessage"], dashes: Object.fromEntries(rts.map((r) => [LABEL[r], dashes[LABEL[r]]])),
    panels: any.kinds.map((kind) => ({ title: kind, lines: rts.flatMap((r) => ["knitting", "postMessage"].map((p) => ({
      series: p, label: LABEL[r], dash: dashes[LABEL[r]], points: any.sizes.map((b) => [b, get(r, p, kind, b)?.us]).filter((q) => q[1]),
    }))) })),
  }));
}

// ---- startup ----------------------------------------------------------------------
function startup() {
  const c = "startup";
  const rts = runtimesOf(c);
  if (!rts.length) return;
  const peers = ["knitting", "postMessage", "piscina", "tinypool", "workerpool"];
  const get = (r, p, t) => raw[c][r].rows.find((x) => x.peer === p && x.threads === t);
  const md = [`# Startup: createPool to first result`, "", machineLine(c), "",
    `ms from creating the pool (or Worker) to the first result. "cold" is the first pool in a fresh process (includes loading the library); "warm" is the median of the next ${raw[c][rts[0]].reps - 1} in the same process; "all" is until every thread has answered once.`, ""];
  const rows = [];
  for (const r of rts) for (const p of peers) {
    const a = get(r, p, 1), b = get(r, p, 2);
    if (!a) continue;
    rows.push([LABEL[r], p, f1(a.coldMs), f1(a.warmMs), f1(b?.coldMs), f1(b?.warmMs), f1(b?.warmAllMs)]);
  }
  md.push(table(["runtime", "system", "1 thread cold", "1 thread warm", "2 threads cold", "2 threads warm", "2 threads, all answered (warm)"], rows));
  md.push(notRun(c));
  write("startup.md", md.join("\n"));
  write("startup.json", JSON.stringify({ case: c, machine, runtimes: raw[c] }, null, 1));
  const series = peers.filter((p) => rts.some((r) => get(r, p, 1)));
  if (!QUICK) writeFileSync(`${docsDir}bench-startup.svg`, groupedBars({
    title: "Startup: createPool to first result, ms (lower is better)",
    subtitle: `${machine.cpu}, ${machine.cores} cores; warm = median of repeated pools in one process`,
    unit: "ms", series, log: true,
    panels: rts.map((r) => ({ title: LABEL[r], groups: [["1 thread, cold", 1, "coldMs"], ["1 thread, warm", 1, "warmMs"], ["2 threads, cold", 2, "coldMs"], ["2 threads, warm", 2, "warmMs"]].map(([label, t, key]) => ({ label, bars: series.map((p) => ({ series: p, value: get(r, p, t)?.[key] })) })) })),
  }));
}

// ---- idle ---------------------------------------------------------------------------
function idle() {
  const c = "idle";
  const rts = runtimesOf(c);
  if (!rts.length) return;
  const any = raw[c][rts[0]];
  const md = [`# Idle CPU: a pool receiving no calls`, "", machineLine(c), "",
    `Process CPU time (all threads, \`process.cpuUsage()\`) over ${any.windowMs / 1000} s with no calls, starting ${any.settleMs} ms after the last of 200 calls (past the spin window), as % of one core. ` +
    `"busy threads" lists threads that gained /proc scheduler ticks (10 ms each) in the window. Target: 0%, read as ≤ ${T.idlePct}% of one core above the runtime's own baseline (1 ms of CPU in 2 s).`, ""];
  const rows = [];
  for (const r of rts) {
    const base = raw[c][r].rows.find((x) => x.peer === "baseline");
    for (const x of raw[c][r].rows) {
      const over = base ? x.pct - base.pct : undefined;
      let verdict = "–";
      if (x.peer === "knitting" && over !== undefined) {
        const ok = over <= T.idlePct;
        verdict = mark(ok);
        targets.push({ target: `0% idle CPU, ${x.threads} thread${x.threads > 1 ? "s" : ""}`, runtime: LABEL[r], value: `${x.pct.toFixed(3)}% (baseline ${base.pct.toFixed(3)}%)`, met: ok });
      }
      rows.push([LABEL[r], KEY[x.peer] ?? x.peer, x.peer === "baseline" ? "0" : x.threads, `${x.pct.toFixed(3)}%`, ((x.userUs + x.systemUs) / 1000).toFixed(2), x.busyThreads.map((b) => `${b.thread} ${b.ms} ms`).join(", ") || "none", verdict]);
    }
  }
  md.push(table(["runtime", "system", "threads", "CPU, % of one core", "CPU ms in window", "busy threads", "0% target"], rows));
  md.push(notRun(c));
  write("idle.md", md.join("\n"));
  write("idle.json", JSON.stringify({ case: c, machine, runtimes: raw[c] }, null, 1));
}

// ---- scaling --------------------------------------------------------------------------
function scaling() {
  const c = "scaling";
  const rts = runtimesOf(c);
  if (!rts.length) return;
  const any = raw[c][rts[0]];
  const md = [`# CPU-bound scaling: prime scan`, "", machineLine(c), "",
    `Count the primes below ${any.limit.toLocaleString("en-US")} by trial division, split into ${any.chunks} tasks. ms for the whole scan; speed-up is against the same scan on the host thread alone. On 2 cores, 2 threads can at best halve the time (and the host thread and other processes share those cores).`, ""];
  const rows = [];
  for (const r of rts) for (const x of raw[c][r].rows) rows.push([LABEL[r], x.peer, x.threads || "host", f1(x.ms) + dag(x), x.speedupVsHost ? fx(x.speedupVsHost) : "1×"]);
  md.push(table(["runtime", "system", "threads", "ms", "speed-up vs host"], rows));
  md.push("", DAGGER_NOTE);
  md.push(notRun(c));
  write("scaling.md", md.join("\n"));
  write("scaling.json", JSON.stringify({ case: c, machine, runtimes: raw[c] }, null, 1));
}

// ---- native tasks ----------------------------------------------------------------------
function native() {
  const c = "native";
  const rts = runtimesOf(c);
  if (!rts.length) return;
  const any = raw[c][rts[0]];
  const systems = any.systems;
  const [C, JS, PM] = ["C, knitgen dispatch", "JS worker", "postMessage"];
  const md = [`# Native tasks: the string echo in C`, "", machineLine(c), "",
    `The suite's string echo ("hello" → "hello world") as a C function (\`bench/native/echo.c\`) on the pool's C thread, called through the dispatch \`knitgen --c-stubs\` generates and through libffi, beside the same echo in a knitting JS worker and over worker postMessage. ` +
    `Round trip: µs per iteration of k calls awaited together, one thread each; the four take turns over ${any.rounds} rounds and each figure is the median round. ` +
    `Throughput: a window of 1,024 calls in flight, ${any.n.toLocaleString("en-US")} calls (postMessage: what it completes in ${any.capMs / 1000} s), median of ${any.rounds} rounds. × = the other system ÷ C through the dispatch (time) or C ÷ the other (calls/s).`, ""];
  const lat = (r, sys, k) => raw[c][r].latency.find((x) => x.system === sys && x.inflight === k && !x.error);
  const rows = [];
  for (const r of rts) for (const k of any.levels) {
    const cd = lat(r, C, k);
    rows.push([LABEL[r], k, ...systems.map((sys) => f1(lat(r, sys, k)?.avg) + dag(lat(r, sys, k))), cd && lat(r, JS, k) ? fx(lat(r, JS, k).avg / cd.avg) : "–", cd && lat(r, PM, k) ? fx(lat(r, PM, k).avg / cd.avg) : "–"]);
  }
  md.push("### Round trip (µs, averages)", "", table(["runtime", "in flight", ...systems, "× JS worker", "× postMessage"], rows));
  const tp = (r, sys, t) => raw[c][r].throughput.find((x) => x.system === sys && x.threads === t);
  const trows = [];
  for (const r of rts) for (const t of [1, 2]) {
    const cd = tp(r, C, t);
    const m = (x) => (x ? `${(x.callsPerSec / 1e6).toFixed(2)}${x.capped ? "*" : ""}${dag(x)}` : "–");
    trows.push([LABEL[r], t, ...systems.map((sys) => m(tp(r, sys, t))), cd && tp(r, JS, t) ? fx(cd.callsPerSec / tp(r, JS, t).callsPerSec) : "–", cd && tp(r, PM, t) ? fx(cd.callsPerSec / tp(r, PM, t).callsPerSec) : "–"]);
  }
  md.push("", "### Throughput (M calls/s; * stopped at the time cap)", "", table(["runtime", "threads", ...systems, "× JS worker", "× postMessage"], trows));
  md.push("", DAGGER_NOTE, notRun(c));
  const detail = [];
  for (const r of rts) for (const x of raw[c][r].latency) if (!x.error) detail.push([LABEL[r], x.system, x.inflight, f1(x.avg), f1(x.p50), f1(x.p99), f1(x.p999), x.roundAvgs?.map(f1).join(" / ") ?? "–"]);
  md.push("## Every peer with every percentile", "", table(["runtime", "system", "in flight", "avg", "p50", "p99", "p99.9", "round avgs"], detail));
  write("native.md", md.join("\n") + "\n");
  write("native.json", JSON.stringify({ case: c, machine, runtimes: raw[c] }, null, 1));
}

// ---- generated table vs run-time path (issue 5) -------------------------------------
function genTable() {
  const c = "table";
  const rts = runtimesOf(c);
  if (!rts.length) return;
  const any = raw[c][rts[0]];
  const md = [`# Generated table vs run-time path`, "", machineLine(c), "",
    `The same two tasks (\`bench/table/tasks.ts\`) called through a pool built from knitgen's generated table (\`knitgen table/tasks.ts -o table/gen\`) and through the run-time path (\`createPool()({ inc, hello })\`). One worker, µs per iteration (k calls awaited together); the two pools take turns over ${any.rounds} rounds, one alive at a time, and each figure is the median of the rounds. × = run-time average ÷ table average (above 1: the table is faster).`, ""];
  const rows = [];
  for (const r of rts) for (const x of raw[c][r].rows) {
    const spread = (p) => `${f1(Math.min(...x[p].roundAvgs))}–${f1(Math.max(...x[p].roundAvgs))}`;
    rows.push([LABEL[r], x.task === "inc" ? "inc: number → number" : "hello: string → string", x.inflight, f1(x.table.avg), f1(x.table.p50), f1(x.table.p99), spread("table"), f1(x.runtime.avg), f1(x.runtime.p50), f1(x.runtime.p99), spread("runtime"), fx(x.speedup)]);
  }
  md.push(table(["runtime", "task", "in flight", "table avg", "p50", "p99", "round avgs", "run-time avg", "p50", "p99", "round avgs", "×"], rows));
  write("table.md", md.join("\n") + "\n");
  write("table.json", JSON.stringify({ case: c, machine, runtimes: raw[c] }, null, 1));
}

if (QUICK) quick();
else {
  latency();
  throughput();
  payload();
  startup();
  idle();
  scaling();
  native();
  genTable();
  const md = ["# Issue 7 targets", "", machineLine("latency"), "", `${DAGGER_NOTE}`, "", table(["target", "runtime", "measured", ""], targets.map((t) => [t.target, t.runtime, t.value, mark(t.met)]))].join("\n");
  if (targets.length) write("targets.md", md + "\n"); // not when only other cases ran
  // refresh the generated blocks of docs/benchmarks.md
  const docPath = `${docsDir}benchmarks.md`;
  if (existsSync(docPath)) {
    let doc = readFileSync(docPath, "utf8");
    for (const [name, body] of Object.entries(snippets)) {
      const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
      doc = doc.replace(re, (_, a, b) => `${a}\n${body}\n${b}`);
    }
    writeFileSync(docPath, doc);
  }
  if (targets.length) write("targets.json", JSON.stringify({ machine, targets }, null, 1));
  console.log(md);
}
