// The worker loop: take every pending request in one batch, run the tasks,
// write the results back in one batch. With nothing to do it spins, runs GC
// once, then parks in C for up to parkMs; if still idle it hands the wait to
// a watcher thread and lets its event loop sleep. While async tasks are in
// flight it must not block the event loop, so it uses the watcher at once.
import process from "node:process";
import { parentPort } from "node:worker_threads";
import { knit, respond } from "./addon.js";
import { Deque } from "./deque.js";
import { workerConfig } from "./env.js";
import { POOL, TASK } from "./task.js";

const OK = 0;
const THROWN = 1;
const CORRUPT = 2;
const CANCELLED = 3; // set by take: the host gave the call up before it ran
const FULL = -1;
const SLOTS = 32; // a mailbox's (KNIT_SLOTS)
const CLOSING = -1;
// A batch's answers go out together when it ends, unless it has run this
// long: then what is done goes out before the next task (CPU-bound calls
// would otherwise all wait for the whole batch). Native threads do the same
// (runtime/src/native.c LONG_BATCH_NS).
const LONG_BATCH_MS = 0.2;
// An idle worker collects garbage only once it has waited this long (parked
// after its spin): shorter gaps are the host pausing, for its own GC (bun:
// 0.3-0.8 ms each, every ~9,000 calls at 50 in flight), and a collection
// then would hold up the calls the host sends as it resumes.
const IDLE_GC_AFTER_MS = 2;
// Answers waiting for a response slot (three backlog entries each) past
// which the worker takes no more requests: one mailbox's worth.
const BACKLOG_LIMIT = 3 * SLOTS;
// How long a worker that is exiting (process.exit in a task) keeps trying
// to send the answers it has ready.
const EXIT_FLUSH_MS = 100;

function callable(entry, index) {
  if (typeof entry === "function") return entry;
  if (entry && entry[TASK]) return entry.f;
  if (entry && entry[POOL] && entry.task) return callable(entry.task, index);
  throw new TypeError(`knitting worker: task #${index} is not a function or task()`);
}

function definitionOf(entry) {
  if (entry && entry[TASK]) return entry;
  if (entry && entry[POOL] && entry.task) return definitionOf(entry.task);
  return null;
}

function hostOptions(entry) {
  const def = definitionOf(entry);
  return { timeout: def?.timeout };
}

function idleCollector() {
  if (typeof globalThis.Bun?.gc === "function") return () => globalThis.Bun.gc(false);
  if (typeof globalThis.gc === "function") {
    const gc = globalThis.gc;
    return () => {
      try {
        gc({ type: "minor" });
      } catch {
        gc();
      }
    };
  }
  return undefined;
}

export async function serveWorker(tasks, config = workerConfig) {
  if (!config) throw new Error("serveWorker() runs inside a knitting worker only");
  const fns = tasks.map(callable);
  if (config.niceIncrement) knit.renice(config.niceIncrement);
  await bootstrap(config);
  const lane = knit.attach(config.lane);
  const spinUs = config.spinMicroseconds;
  const parkMs = config.parkMs;
  const collect = config.gc !== false ? idleCollector() : undefined;
  const small = []; // request values of a small batch (knit.take)
  const meta = new Int32Array(4 * SLOTS); // [task, call, status, aux] per request
  // A task that asked for an abort signal reads its call's cancel word
  // (aux is the call's token, knit_lane_cancel); the others get a constant.
  const abortable = tasks.map((t) => !!definitionOf(t)?.abortSignal);
  const notAborted = { hasAborted: () => false, now: () => knit.now() };
  const signalFor = (task, token) => (abortable[task] ? { hasAborted: () => knit.cancelled(lane, token), now: () => knit.now() } : notAborted);
  const gaveUp = new Error("the call was cancelled before it ran"); // the host has settled it
  // With worker.hardTimeoutMs: the start of each task, which the host's
  // hard timeout counts from (pool.js hardTimeLeft). The time first, then
  // the token: a host that sees the token sees that time or a later one.
  const progressTime = config.progress && new Float64Array(config.progress, 0, 1);
  const progressToken = config.progress && new Int32Array(config.progress, 8, 1);
  const backlog = new Deque(); // [call, status, value] of results waiting for a response slot
  let asyncInflight = 0;
  let dirty = false;
  let flushQueued = false;
  let workSinceGc = false;
  let wake = null; // resolves the loop's wait while async tasks run

  const idle = collect && (() => {
    if (workSinceGc) {
      workSinceGc = false;
      collect();
    }
  });

  function defer(call, status, value) {
    backlog.push(call);
    backlog.push(status);
    backlog.push(value);
  }

  // A result that cannot be sent goes back as the error that says why.
  function send(call, status, value) {
    try {
      return respond(lane, call, status, value);
    } catch (err) {
      return respond(lane, call, THROWN, err);
    }
  }

  function reply(call, status, value) {
    if (backlog.length) {
      defer(call, status, value);
      return;
    }
    if (send(call, status, value) === FULL) defer(call, status, value);
    else dirty = true;
  }

  function flush() {
    flushQueued = false;
    while (backlog.length) {
      if (send(backlog.at(0), backlog.at(1), backlog.at(2)) === FULL) break;
      backlog.drop(3);
      dirty = true;
    }
    if (dirty) {
      dirty = false;
      knit.flushResponses(lane);
    }
  }

  function settleAsync(call, status, value) {
    asyncInflight--;
    reply(call, status, value);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
    if (wake) wake();
  }

  function runBatch() {
    let inbox = knit.take(lane, small, meta);
    if (inbox === null) return CLOSING;
    let n = inbox;
    if (typeof n === "number") inbox = small;
    else n = inbox.length;
    // The clock is read after the first task and every 8th, then after
    // every task once the batch is known to be slow.
    let since = n > 1 ? performance.now() : 0;
    let slow = false;
    for (let i = 0; i < n; i++) {
      if (i > 0 && (slow || (i & 7) === 1)) {
        const now = performance.now();
        if (now - since > LONG_BATCH_MS) {
          flush();
          since = now;
          slow = true;
        }
      }
      const task = meta[4 * i];
      const call = meta[4 * i + 1];
      const status = meta[4 * i + 2];
      const aux = meta[4 * i + 3];
      const arg = inbox[i];
      inbox[i] = undefined;
      if (status === CORRUPT) {
        reply(call, THROWN, arg);
        continue;
      }
      // Given up on before it was taken, or (in a slow batch, where it may
      // have waited long behind others) since.
      if (status === CANCELLED || (slow && knit.cancelled(lane, aux))) {
        reply(call, THROWN, gaveUp);
        continue;
      }
      const f = fns[task];
      if (!f) {
        reply(call, THROWN, new Error(`knitting worker: no task #${task}`));
        continue;
      }
      if (progressTime) {
        progressTime[0] = knit.now();
        Atomics.store(progressToken, 0, aux);
      }
      let result;
      try {
        result = f(arg, signalFor(task, aux));
      } catch (err) {
        reply(call, THROWN, err);
        continue;
      }
      if (result !== null && typeof result === "object" && typeof result.then === "function") {
        asyncInflight++;
        // Promise.resolve: a thenable that calls back twice, or whose then
        // throws, still settles the call exactly once.
        Promise.resolve(result).then((v) => settleAsync(call, OK, v), (e) => settleAsync(call, THROWN, e));
      } else {
        reply(call, OK, result);
      }
    }
    if (n) workSinceGc = true;
    return n;
  }

  const immediate = () => new Promise((resolve) => setImmediate(resolve));
  let watching = false;

  // Waits, without blocking the loop, for an async task to settle or a new
  // request to arrive. Only an idle worker counts as asleep meanwhile: with
  // async tasks in flight its loop may be running them.
  function loopWait(idle) {
    if (!watching) {
      watching = true;
      knit.watch(lane, () => wake?.());
    }
    return new Promise((resolve) => {
      wake = () => {
        wake = null;
        knit.watchDisarm(lane);
        resolve();
      };
      knit.watchArm(lane, idle);
    });
  }

  // A task that ends its worker (process.exit) must not take the answers
  // of the tasks before it along: they go out before the thread does, and
  // the host collects them before it fails the calls the worker still held.
  let serving = true;
  process.on?.("exit", () => {
    if (!serving) return;
    try {
      // A host that is collecting makes room within microseconds.
      const until = performance.now() + EXIT_FLUSH_MS;
      flush();
      while (backlog.length && performance.now() < until) flush();
    } catch {
      // the thread is going; what could not be sent fails with it
    }
  });

  // The host of a knitgen table never imports the task modules: tell it the
  // options that settle calls on its side.
  parentPort?.postMessage({ knitting: "ready", tasks: tasks.map(hostOptions) });

  for (;;) {
    // Past a mailbox's worth of answers waiting for room, those go before
    // more work is taken: running further ahead of a host that is not
    // collecting only piles results up in this thread, where a crash would
    // lose them. (Less than that waits at 50 calls in flight, and stalling
    // for it cost node 24 5% there.)
    if (backlog.length >= BACKLOG_LIMIT) {
      flush();
      if (backlog.length) {
        await immediate();
        continue;
      }
    }
    const taken = runBatch();
    if (taken === CLOSING) break;
    if (taken) {
      // Answers staged synchronously go out with the next take.
      if (backlog.length || asyncInflight) flush();
      if (asyncInflight) {
        // Let promise-only tasks finish before deciding how to wait.
        await null;
        flush();
      }
      continue;
    }
    // Nothing to take, answers still waiting for room: never sleep on them.
    if (backlog.length) {
      flush();
      if (backlog.length) await immediate();
      continue;
    }
    if (asyncInflight) {
      await loopWait(false);
      flush();
      continue;
    }
    // Spins (yielding while the process's awake workers outnumber the
    // cores), then parks: this thread counts as asleep until it wakes.
    const r = knit.wait(lane, spinUs, parkMs, idle, IDLE_GC_AFTER_MS);
    if (r === CLOSING) break;
    // Still idle after a park: hand the wait to the watcher thread and free
    // this thread's event loop (its timers run; no periodic wake-ups).
    if (r === 0) await loopWait(true);
  }
  serving = false;
  parentPort?.close?.();
}

// worker.bootstrap, once per worker. The run-time entry (worker.js) runs it
// before it imports the task modules, so they may rely on what it sets up;
// a knitgen entry imports them statically, and gets it in serveWorker.
let booted = null;
export function bootstrap(config = workerConfig) {
  booted ??= config?.bootstrap ? runBootstrap(config.bootstrap) : Promise.resolve();
  return booted;
}

async function runBootstrap({ href, name, data }) {
  const mod = await import(href);
  const fn = mod[name];
  if (typeof fn !== "function") throw new TypeError(`worker.bootstrap: ${href} has no exported function "${name}"`);
  await fn(data);
}
