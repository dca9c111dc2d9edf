// Every system under test behind one shape: { name, call(fn, arg), close() }.
// fn is one of the names in fns.mjs.
import { Worker } from "node:worker_threads";
import { createPool, nativeTask } from "knitting";
import { all as knitTasks } from "./knit-tasks.mjs";

const FN_INDEX = { echo: 0, echoObj: 1, same: 2, primes: 3 };
const here = (p) => new URL(p, import.meta.url);

export async function knitting(threads = 1, options = {}) {
  const pool = createPool({ threads, ...options })(knitTasks);
  const call = pool.call;
  return { name: "knitting", call: (fn, arg) => call[fn](arg), close: () => pool.shutdown() };
}

export async function postMessage(threads = 1) {
  const workers = [];
  const pending = new Map();
  let next = 0;
  for (let i = 0; i < threads; i++) {
    const w = new Worker(here("./pm-worker.mjs"));
    w.on("message", (m) => {
      const r = pending.get(m[0]);
      pending.delete(m[0]);
      r(m[1]);
    });
    workers.push(w);
  }
  let rr = 0;
  return {
    name: "postMessage",
    call(fn, arg) {
      return new Promise((res) => {
        const id = next++;
        pending.set(id, res);
        workers[rr++ % threads].postMessage([id, FN_INDEX[fn], arg]);
      });
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

async function netServer() {
  const w = new Worker(here("./net-server.mjs"));
  const info = await new Promise((res, rej) => {
    w.once("message", res);
    w.once("error", rej);
  });
  return { worker: w, ...info };
}

export async function websocket() {
  const srv = await netServer();
  let WS = globalThis.WebSocket;
  let client = "global WebSocket";
  if (!WS) {
    WS = (await import("ws")).WebSocket;
    client = "ws client";
  }
  const ws = new WS(`ws://127.0.0.1:${srv.port}/`);
  await new Promise((res, rej) => {
    ws.onopen = res;
    ws.onerror = (e) => rej(new Error(`websocket: ${e?.message ?? "connect failed"}`));
  });
  const pending = new Map();
  let next = 0;
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    const r = pending.get(m[0]);
    pending.delete(m[0]);
    r(m[1]);
  };
  return {
    name: "WebSocket",
    detail: `${srv.kind} server in a worker, ${client}`,
    call(fn, arg) {
      return new Promise((res) => {
        const id = next++;
        pending.set(id, res);
        ws.send(JSON.stringify([id, FN_INDEX[fn], arg]));
      });
    },
    async close() {
      ws.close();
      await srv.worker.terminate();
    },
  };
}

export async function http() {
  const srv = await netServer();
  const base = `http://127.0.0.1:${srv.port}/`;
  const headers = { "content-type": "application/json" };
  return {
    name: "HTTP",
    detail: `${srv.kind} server in a worker, fetch client (keep-alive)`,
    call: (fn, arg) => fetch(base + fn, { method: "POST", body: JSON.stringify(arg), headers, keepalive: true }).then((r) => r.json()),
    close: () => srv.worker.terminate(),
  };
}

export async function piscina(threads = 1) {
  const { Piscina } = await import("piscina");
  const pool = new Piscina({ filename: here("./pool-worker.mjs").href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  return { name: "piscina", call: (fn, arg) => pool.run(arg, { name: fn }), close: () => pool.destroy() };
}

export async function tinypool(threads = 1) {
  const { default: Tinypool } = await import("tinypool");
  const pool = new Tinypool({ filename: here("./pool-worker.mjs").href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  return { name: "tinypool", call: (fn, arg) => pool.run(arg, { name: fn }), close: () => pool.destroy() };
}

export async function workerpool(threads = 1) {
  const { default: wp } = await import("workerpool");
  // Bun's workers carry web-worker globals, so workerpool's worker script takes
  // its browser branch and never answers a worker_threads host: use "web" there.
  const workerType = globalThis.Bun ? "web" : "thread";
  const pool = wp.pool(here("./workerpool-worker.mjs").pathname, { minWorkers: threads, maxWorkers: threads, workerType });
  return { name: "workerpool", detail: `workerType "${workerType}"`, // exec() returns workerpool's own promise class; hand back a native one
    // like every other peer (mitata only awaits native promises)
    call: (fn, arg) => new Promise((res, rej) => pool.exec(fn, [arg]).then(res, rej)), close: () => pool.terminate() };
}

export const ALL = { knitting, postMessage, websocket, http, piscina, tinypool, workerpool };

// The string echo as a C task (bench/native/echo.c) on `threads` C threads,
// called through knitgen's generated dispatch ("dispatch") or libffi ("ffi").
// Only fn "echo" exists there. The libraries are in the build tree.
const nativeLibs = new URL("../../build/bench/native/", import.meta.url).pathname;
export async function knittingC(threads, via) {
  const echo = via === "ffi"
    ? nativeTask({ symbol: "echo", library: `${nativeLibs}libecho_ffi.so`, arg: "string", result: "string" })
    : nativeTask({ symbol: "echo", library: `${nativeLibs}libecho_gen.so` });
  const pool = createPool({ native: threads })({ echo });
  return { name: `knitting C (${via})`, call: (fn, arg) => pool.call.echo(arg), close: () => pool.shutdown() };
}
