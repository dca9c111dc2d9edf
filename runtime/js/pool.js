// The host side of a pool: lanes, dispatch, completion and faults.
//
// Calls are encoded straight into a lane's request mailbox by the addon and
// published in batches (see EARLY_PUBLISH). Completions are found by polling while
// calls are hot (setImmediate, never a millisecond timer) and, once a burst
// goes quiet, by a native watcher thread that wakes the loop when a response
// lands. See docs/architecture.md.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { knit, runtime, submit, submitStashed } from "./addon.js";
import { CallTable } from "./calls.js";
import { Deque } from "./deque.js";
import { InlineLane } from "./inline.js";
import { checkShutdownDelay, checkTimeout } from "./options.js";
import { WORKER_FLAG } from "./env.js";

const STOP_GRACE_MS = 1000;
// Chained calls may spin for answers in the flush (host.syncSpinMicroseconds)
// for at most this long before the event loop gets its turn.
const SYNC_BUDGET_MS = 0.05;
// A burst of calls is published to its worker as it is made, not only at
// the end of the tick: the first call at once (the worker starts on it
// while the host encodes the rest) and then every EARLY_PUBLISH calls.
// Only with a core to spare: when the awake worker threads of the process
// outnumber the cores (knit.crowded(), read once per flush), the host's core
// is the bottleneck and smaller batches only cost it more.
const EARLY_PUBLISH = 8;
const OK = 0;
const THROWN = 1;
const STAGED = 0;

const livePools = new Set();

let exitHookInstalled = false;

export function knitError(message, options) {
  const err = new Error(`knitting: ${message}`, options);
  return err;
}

// What a worker threw, for a message: an Error's message, else the value
// (one that cannot be turned into a string is named by its type).
function describeThrown(value) {
  try {
    if (typeof value?.message === "string") return value.message;
    return `uncaught ${typeof value === "string" ? JSON.stringify(value) : String(value)}`;
  } catch {
    return `uncaught ${typeof value}`;
  }
}


class Lane {
  constructor(pool, index) {
    this.pool = pool;
    this.index = index;
    this.handle = knit.laneOpen(pool.handle);
    this.id = knit.laneId(this.handle);
    this.inflight = 0;
    this.dirty = false;
    this.staged = 0;
    this.token = 0; // the token of the lane's last call (knit.cancel)
    this.fullIn = 0; // the pool's drain in which this lane was found full
    this.ready = false;
    this.crash = null;
    this.threw = false; // its worker reported an uncaught throw (crash), even of null
    this.closed = false;
    this.worker = null;
    // With worker.hardTimeoutMs: the token and start time (knit.now()) of
    // the last task its worker started, written by the worker (serve.js).
    this.progress = null;
  }
}

export class Pool {
  constructor(options, specs, entry) {
    this.options = options;
    this.specs = specs;
    this.entry = entry;
    this.optionsKnown = entry.tasks !== null; // a knitgen table learns them from its first worker
    this.calls = new CallTable(); // call id -> record, until its response arrives
    this.maxInFlight = options.worker.maxInFlight; // per lane; the rest wait in this.queue
    this.queue = new Deque(); // records waiting for room in a lane
    this.awaitingArg = new Set(); // records whose argument is a promise not yet settled
    this.signalWatches = new WeakMap(); // AbortSignal -> { recs, onAbort }, one listener per signal
    this.workerInflight = 0;
    this.pendingCount = 0; // unsettled calls, queued or running
    this.closed = false;
    this.shutDown = null; // the Error of calls shutdown() settled, once it has
    this.broken = null; // an Error once workers cannot start
    this.rr = 0;
    this.drains = 0; // counts drainQueue passes (Lane.fullIn)
    this.flushScheduled = false;
    this.syncSince = 0;
    this.polling = false;
    this.armed = false;
    this.wantsRoom = false; // asked the workers to ring for room (knit.wantRoom)
    this.lastProgress = 0;
    this.drainWaiters = [];
    this.values = []; // response values of a small poll (knit.poll)
    this.meta = new Int32Array(2 * 32 * 8); // [call, status] per response, 8 lanes' worth a poll
    // Native tasks: load and check everything now, so createPool throws.
    const natives = specs.flatMap((s, id) => (s.native ? [{ id, name: s.name, library: s.library, symbol: s.symbol, arg: s.arg, result: s.result }] : []));
    const jsTasks = specs.length - natives.length;
    const nativeThreads = options.native ?? (natives.length ? 1 : 0);
    if (natives.length && nativeThreads === 0) throw new TypeError(`createPool: native is 0, but task "${natives[0].name}" is native`);
    if (jsTasks && options.threads === 0 && !options.inliner) throw new TypeError("createPool: threads is 0 and there is no inliner: nothing could run the JS tasks");
    this.nativeTable = natives.length ? knit.nativeTable(natives) : null;
    this.handle = knit.poolCreate(options.payload.arenaInitial, options.payload.arenaMax,
      options.payload.maxPayloadBytes, () => this.onWake());
    this.lanes = [];
    this.crowded = knit.crowded();
    if (jsTasks) for (let i = 0; i < options.threads; i++) this.lanes.push(this.startLane(i));
    // A native lane is a lane whose consumer is a C thread, not a Worker.
    this.nativeLanes = [];
    for (let i = 0; natives.length && i < nativeThreads; i++) this.nativeLanes.push(this.startNativeLane(i));
    this.inline = options.inliner ? new InlineLane(this, options.inliner) : null;
    this.pollTick = () => this.poll();
    this.flushTick = () => this.flush();
    livePools.add(this);
    installExitHook();
  }

  startNativeLane(index) {
    const lane = new Lane(this, index);
    lane.native = true;
    lane.ready = true;
    knit.nativeStart(this.nativeTable, lane.handle, this.options.worker.spinMicroseconds, this.options.payload.maxPayloadBytes);
    return lane;
  }

  startLane(index) {
    const lane = new Lane(this, index);
    const { worker: w } = this.options;
    const progress = w.hardTimeoutMs ? new SharedArrayBuffer(16) : undefined;
    if (progress) lane.progress = { time: new Float64Array(progress, 0, 1), token: new Int32Array(progress, 8, 1) };
    // Node gives workers a gc() only if the flag is set before they start.
    // Only on request: the flag is process-wide and slows every later worker
    // start (the first by 20-25 ms, the others by 3-4 ms).
    if (w.gc === true && runtime === "node" && typeof globalThis.gc !== "function") exposeGc();
    const worker = new Worker(this.entry.url, {
      workerData: { [WORKER_FLAG]: { lane: lane.id, tasks: this.entry.tasks, bootstrap: w.bootstrap, spinMicroseconds: w.spinMicroseconds, parkMs: w.parkMs, gc: w.gc, niceIncrement: w.niceIncrement, progress, debug: this.options.debug } },
      resourceLimits: w.resourceLimits,
    });
    lane.worker = worker;
    worker.on("message", (msg) => {
      if (msg?.knitting !== "ready") return;
      lane.ready = true;
      if (!this.optionsKnown) this.learnOptions(msg.tasks);
    });
    worker.on("error", (err) => {
      lane.crash = err;
      lane.threw = true;
    });
    worker.on("exit", (code) => this.onWorkerExit(lane, code));
    // After the listeners: adding a "message" listener refs the port again.
    // Calls in flight keep the process alive; idle workers never do.
    worker.unref();
    return lane;
  }

  // A knitgen table's host has not seen the task definitions: the first
  // worker reports their timeouts. Calls made before that get their timers
  // now, measured from when they were made.
  learnOptions(reported) {
    this.optionsKnown = true;
    reported.forEach((o, i) => {
      const spec = this.specs[i];
      if (!spec || spec.native || !o) return;
      if (!o.timeout || spec.timeout) return;
      spec.timeout = o.timeout;
      const waiting = [...this.calls.values(), ...this.queue.list()];
      for (const rec of waiting) if (rec && rec.task === i && !rec.settled && !rec.timer) this.armTimeout(rec, o.timeout);
    });
  }

  // -- dispatch

  call(task, arg, callOptions) {
    if (this.closed) return Promise.reject(knitError("the pool is shut down; no calls are accepted"));
    if (this.broken) return Promise.reject(this.broken);
    if (this.pendingCount >= this.options.maxQueue) {
      return Promise.reject(knitError(`the pool has ${this.pendingCount} call${this.pendingCount === 1 ? "" : "s"} pending, its maxQueue`));
    }
    const signal = callOptions?.signal;
    if (signal !== undefined && !(signal && typeof signal.aborted === "boolean" && typeof signal.addEventListener === "function")) {
      return Promise.reject(new TypeError("call options: signal must be an AbortSignal"));
    }
    if (signal?.aborted) return Promise.reject(signal.reason ?? knitError("aborted"));
    let resolve, reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const spec = this.specs[task];
    const rec = { id: 0, task, arg, stashed: -1, resolve, reject, lane: null, timer: null, settled: false, signal, token: 0, started: spec.timeout || !this.optionsKnown ? knit.now() : 0 };
    this.pendingCount++;
    if (spec.timeout) this.armTimeout(rec, spec.timeout);
    if (signal) this.watchSignal(rec);
    let then;
    try {
      then = arg !== null && typeof arg === "object" ? arg.then : undefined;
    } catch (err) {
      this.settle(rec, false, err); // a throwing then getter
      return promise;
    }
    if (typeof then === "function") {
      // Promise.resolve: a then() that throws rejects the call, never the caller.
      this.awaitingArg.add(rec);
      Promise.resolve(arg).then((value) => {
        this.awaitingArg.delete(rec);
        rec.arg = value;
        if (!rec.settled) this.dispatch(rec);
      }, (err) => {
        this.awaitingArg.delete(rec);
        this.settle(rec, false, err);
      });
    } else {
      this.dispatch(rec);
    }
    return promise;
  }

  pick(rec) {
    const native = this.specs[rec.task].native;
    const lanes = native ? this.nativeLanes : this.lanes;
    const n = lanes.length;
    const inline = !native && this.inline && this.pendingCount > this.inline.dispatchThreshold ? this.inline : null;
    if (n === 0) return inline;
    let lane = null;
    switch (this.options.balancer) {
      case "firstIdle":
      case "firstIdleOrRandom":
        for (const l of lanes) if (l.inflight === 0) { lane = l; break; }
        if (!lane) lane = this.options.balancer === "firstIdle" ? lanes[this.rr++ % n] : lanes[(Math.random() * n) | 0];
        break;
      case "randomLane":
        lane = lanes[(Math.random() * n) | 0];
        break;
      default:
        lane = lanes[this.rr++ % n];
    }
    if (inline && (lane.inflight > inline.inflight || inline.preferred())) return inline;
    return lane;
  }

  dispatch(rec) {
    if (this.queue.length) {
      this.enqueue(rec); // keep FIFO order behind earlier calls
      return;
    }
    const lane = this.pick(rec);
    if (lane === this.inline && lane) return lane.run(rec);
    if (!lane || !this.submit(lane, rec)) this.enqueue(rec);
  }

  // Returns false when the lane is full, or holds worker.maxInFlight calls
  // (the record stays with the caller).
  submit(lane, rec) {
    if (lane.inflight >= this.maxInFlight) return false;
    const id = this.calls.add(rec);
    // lane.staged counts the lane's calls not yet published.
    const publish = !this.crowded && (!lane.dirty || lane.staged + 1 >= EARLY_PUBLISH);
    // Every call carries a token its lane can cancel (knit_lane_cancel) and
    // order by (knit_lane_take). Tokens count up per lane as int32s, which C
    // reads as uint32s, so they wrap as C expects; 0 means none.
    // Taken before the addon runs: a getter in the argument may make a
    // call of its own on this lane while it is encoded.
    const token = lane.token = (lane.token + 1) | 0 || 1;
    let rc;
    try {
      rc = rec.stashed >= 0
        ? submitStashed(lane.handle, rec.task, id, rec.stashed, token, publish)
        : submit(lane.handle, rec.task, id, rec.arg, token, this.specs[rec.task].codec, publish);
    } catch (err) {
      this.calls.delete(id);
      rec.stashed = -1; // spent by the failed submit
      this.settle(rec, false, err);
      return true;
    }
    if (rc !== STAGED) {
      this.calls.delete(id);
      // Above 0: the lane filled while the argument was encoded (a getter
      // made a call); it is stashed, so it is never read twice.
      if (rc > 0) {
        rec.stashed = rc - 1;
        rec.arg = undefined;
      }
      return false; // enqueue() drops a call a getter settled meanwhile
    }
    rec.arg = undefined;
    rec.stashed = -1;
    if (rec.settled) {
      // A getter in the argument settled it (an abort, a shutdown): the
      // worker skips the request, and nobody waits for its answer.
      this.calls.delete(id);
      knit.cancel(lane.handle, token);
    } else {
      rec.id = id;
      rec.lane = lane;
      rec.token = token;
      lane.inflight++;
      this.workerInflight++;
      if (this.options.worker.hardTimeoutMs && !lane.native) this.armHardTimeout(rec); // a C function cannot be stopped
    }
    lane.staged = publish ? 0 : lane.staged + 1;
    if (!lane.dirty) {
      lane.dirty = true;
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(this.flushTick);
      }
    }
    return true;
  }

  flush() {
    this.flushScheduled = false;
    this.crowded = knit.crowded();
    for (const lanes of [this.lanes, this.nativeLanes]) {
      for (const lane of lanes) {
        if (lane.dirty) {
          lane.dirty = false;
          if (lane.staged) knit.flushRequests(lane.handle);
          lane.staged = 0;
        }
      }
    }
    // A hot worker answers within a microsecond or two: spin briefly for
    // it here rather than wait a whole event-loop turn. Chained calls may
    // do this for at most SYNC_BUDGET_MS before the loop gets its turn.
    const spinUs = this.options.host.syncSpinMicroseconds;
    if (spinUs > 0 && this.pendingCount > 0) {
      const now = performance.now();
      if (this.syncSince === 0) this.syncSince = now;
      if (now - this.syncSince < SYNC_BUDGET_MS) this.collect(spinUs);
    }
    this.startPolling();
  }

  // A call that must wait for a slot is encoded now (into the addon's
  // stash), so it sends the value it was made with even if the caller
  // changes the object meanwhile, and an unsendable value fails at once.
  enqueue(rec) {
    if (rec.stashed < 0) {
      try {
        rec.stashed = knit.stash(this.handle, rec.arg, this.specs[rec.task].codec ?? 0);
      } catch (err) {
        this.settle(rec, false, err);
        return;
      }
      rec.arg = undefined;
    }
    // A getter in the argument may have settled the call (an abort) or shut
    // the pool down, whose queue is then drained already.
    if (rec.settled) {
      knit.unstash(this.handle, rec.stashed, false);
      rec.stashed = -1;
      return;
    }
    if (this.shutDown) return this.settle(rec, false, this.shutDown);
    this.queue.push(rec);
  }

  // A lane found full stays full for the rest of the pass (only its worker
  // frees slots), so it is not asked again: with the balancer spreading
  // calls, every other queued call would cost a failed submit.
  drainQueue() {
    const pass = ++this.drains;
    const tryLane = (lane, rec) => {
      if (lane.fullIn === pass) return false;
      if (this.submit(lane, rec)) return true;
      lane.fullIn = pass;
      return false;
    };
    while (this.queue.length) {
      const rec = this.queue.peek();
      if (rec.settled) {
        this.queue.shift();
        continue;
      }
      const lane = this.pick(rec);
      if (!lane) return;
      if (lane === this.inline) {
        this.queue.shift();
        lane.run(rec);
        continue;
      }
      if (!tryLane(lane, rec)) {
        // Try any lane with room before giving up.
        const other = (this.specs[rec.task].native ? this.nativeLanes : this.lanes).find((l) => l !== lane && tryLane(l, rec));
        if (!other) return;
      }
      this.queue.shift();
    }
  }

  // -- completion

  startPolling() {
    if (this.polling || this.workerInflight === 0) return;
    if (this.pendingCount === 0) return this.armWatcher(false);
    if (this.armed) {
      this.armed = false;
      knit.disarm(this.handle);
    }
    this.polling = true;
    this.lastProgress = performance.now();
    setImmediate(this.pollTick);
  }

  poll() {
    this.polling = false;
    this.syncSince = 0; // a macrotask turn: the sync budget starts over
    const n = this.collect();
    if (this.workerInflight === 0) return;
    // Only calls nobody awaits any more (timed out, aborted) are out: keep
    // collecting their answers, but never hold the process open for them.
    if (this.pendingCount === 0) return this.armWatcher(false);
    const now = performance.now();
    if (n > 0) this.lastProgress = now;
    else if (now - this.lastProgress > this.options.host.spinMicroseconds / 1000) {
      // Quiet: let the watcher thread wake us, at zero CPU.
      return this.armWatcher(true);
    }
    this.polling = true;
    setImmediate(this.pollTick);
  }

  armWatcher(keepAlive) {
    // Calls still queued: a worker that takes the calls ahead of them (and
    // runs them for long, async) must wake us to send them, as answers may
    // be far off. Ask, then try once more: that try sees every slot freed
    // before a worker could see the request.
    if (this.queue.length || this.wantsRoom) {
      this.wantsRoom = this.queue.length > 0;
      knit.wantRoom(this.handle, this.wantsRoom);
      const queued = this.queue.length;
      if (queued) this.drainQueue();
      if (this.queue.length < queued) {
        this.polling = true;
        setImmediate(this.pollTick);
        return;
      }
    }
    this.armed = true;
    knit.arm(this.handle, keepAlive);
  }

  onWake() {
    this.armed = false;
    this.collect();
    this.startPolling();
  }

  collect(spinUs = 0) {
    const { meta } = this;
    let values = knit.poll(this.handle, this.values, meta, spinUs);
    let n = values;
    if (typeof n === "number") values = this.values;
    else n = values.length;
    for (let i = 0; i < n; i++) {
      const rec = this.calls.get(meta[2 * i]);
      const status = meta[2 * i + 1];
      const value = values[i];
      values[i] = undefined;
      if (!rec) continue;
      this.calls.delete(rec.id);
      rec.lane.inflight--;
      this.workerInflight--;
      if (status === OK) this.settle(rec, true, value);
      else if (status === THROWN) this.settle(rec, false, value);
      else this.settle(rec, false, knitError(`task "${this.specs[rec.task].name}" failed: ${value?.message ?? value}`, { cause: value }));
    }
    if (this.queue.length) this.drainQueue(); // answers, or a worker rang for room
    return n;
  }

  settle(rec, ok, value) {
    if (rec.settled) {
      // Its answer came, or its worker is gone: the hard timeout kept for a
      // call given up on (below) has nothing left to stop.
      if (rec.hardTimer && this.calls.get(rec.id) !== rec) clearTimeout(rec.hardTimer);
      return;
    }
    rec.settled = true;
    // A call given up on (aborted, timed out, shut down) while its lane
    // holds it: a running task sees hasAborted() (knit_native_aborted()) from
    // now on, and one that has not started never runs. Its hard timeout
    // stays armed: a task stuck in a loop holds its worker whether or not
    // anyone still awaits the call.
    const held = rec.token && !rec.lane.closed && this.calls.get(rec.id) === rec;
    if (held) knit.cancel(rec.lane.handle, rec.token);
    this.pendingCount--;
    if (rec.timer) clearTimeout(rec.timer);
    if (rec.hardTimer && !held) clearTimeout(rec.hardTimer);
    if (rec.signal) this.unwatchSignal(rec);
    rec.arg = undefined;
    if (rec.stashed >= 0) {
      knit.unstash(this.handle, rec.stashed, false);
      rec.stashed = -1;
    }
    if (ok) rec.resolve(value);
    else rec.reject(value);
    if (this.pendingCount === 0) {
      // Nobody awaits what is still out: stop holding the process open.
      if (this.armed) knit.arm(this.handle, false);
      for (const wake of this.drainWaiters.splice(0)) wake();
    }
  }

  // -- aborts: one listener per signal however many calls share it (node 20
  // warns past 10 listeners on one signal)

  watchSignal(rec) {
    const { signal } = rec;
    let watch = this.signalWatches.get(signal);
    if (!watch) {
      watch = { recs: new Set(), onAbort: null };
      watch.onAbort = () => {
        this.signalWatches.delete(signal);
        for (const r of watch.recs) this.settle(r, false, signal.reason ?? knitError("aborted"));
      };
      signal.addEventListener("abort", watch.onAbort, { once: true });
      this.signalWatches.set(signal, watch);
    }
    watch.recs.add(rec);
  }

  unwatchSignal(rec) {
    const watch = this.signalWatches.get(rec.signal);
    if (!watch) return;
    watch.recs.delete(rec);
    if (watch.recs.size === 0) {
      rec.signal.removeEventListener("abort", watch.onAbort);
      this.signalWatches.delete(rec.signal);
    }
  }

  // -- timeouts, measured from the call on libknit's monotonic clock

  armTimeout(rec, timeout) {
    const fire = () => {
      const left = timeout.time - (knit.now() - rec.started);
      if (left > 0.5) {
        rec.timer = setTimeout(fire, left);
        return;
      }
      if (timeout.kind === "default") this.settle(rec, true, timeout.value);
      else if (timeout.kind === "maybe") this.settle(rec, true, undefined);
      else this.settle(rec, false, timeout.error ?? knitError(`task "${this.specs[rec.task].name}" timed out after ${timeout.time} ms`));
    };
    rec.timer = setTimeout(fire, Math.max(0, timeout.time - (knit.now() - rec.started)));
  }

  // A hard timeout counts from when the task starts on its worker, not from
  // when the call was sent: a call waiting in the worker's mailbox, or
  // behind the other tasks of its batch, has not run at all.
  armHardTimeout(rec) {
    const ms = this.options.worker.hardTimeoutMs;
    const check = () => {
      const lane = rec.lane;
      if (!lane || lane.closed || lane.retired || this.calls.get(rec.id) !== rec) return;
      const left = this.hardTimeLeft(lane, rec, ms);
      if (left > 0.5) {
        rec.hardTimer = setTimeout(check, left);
        rec.hardTimer.unref?.();
        return;
      }
      const name = this.specs[rec.task].name;
      const err = knitError(`task "${name}" ran past worker.hardTimeoutMs (${ms} ms); its worker was terminated and replaced`);
      this.settle(rec, false, err);
      this.retire(lane, err);
    };
    rec.hardTimer = setTimeout(check, ms);
    rec.hardTimer.unref?.();
  }

  // How long the call may still run, from its lane's progress (Lane). Tokens
  // count up per lane and tasks start in token order, so a call whose token
  // is not past the last started one has started, no later than that one:
  // never early; an async call overtaken before the host looks may run up
  // to ms longer.
  hardTimeLeft(lane, rec, ms) {
    if (rec.startedBy === undefined) {
      const last = Atomics.load(lane.progress.token, 0);
      if (((last - rec.token) | 0) < 0) return ms; // not started: cannot run past ms before then
      rec.startedBy = lane.progress.time[0];
    }
    return rec.startedBy + ms - knit.now();
  }

  // -- faults

  // Replaces a lane's worker at once and terminates the old one; its calls
  // are failed when it has exited. A pool that is shutting down still
  // replaces workers until shutdown gives up on its calls (this.shutDown):
  // a draining shutdown promised to run the calls it had accepted.
  retire(lane, cause) {
    lane.retired = true;
    lane.crash = cause;
    const at = this.lanes.indexOf(lane);
    if (at >= 0) {
      if (this.shutDown) this.lanes.splice(at, 1);
      else this.lanes[at] = this.startLane(lane.index);
    }
    lane.worker.terminate().catch(() => {});
    this.drainQueue();
  }

  onWorkerExit(lane, code) {
    const stopping = lane.closed;
    // Answers it sent as it went (serve.js flushes them on exit) settle
    // their calls; only the calls it still held fail below.
    if (!stopping) this.collect();
    // A worker that never came up breaks the pool (below): nothing is retried.
    const retried = stopping || this.shutDown || !lane.ready ? 0 : this.takeBackUntaken(lane);
    // Our last use of the handle; the worker's own teardown drops its part.
    knit.laneClose(this.handle, lane.handle);
    lane.closed = true;
    lane.exited?.();
    if (stopping) return;
    const cause = lane.crash;
    // A knitting error from the worker (a hard timeout, a task it cannot
    // find) is quoted without its prefix.
    const ours = cause instanceof Error && cause.message.startsWith("knitting: ");
    // A throw of null or undefined (from a bootstrap, a module's top level,
    // a timer) is still a throw, not an exit code.
    const threw = lane.threw || cause != null;
    const detail = !threw ? undefined : ours ? cause.message.slice("knitting: ".length) : describeThrown(cause);
    const failed = [];
    for (const rec of this.calls.values()) if (rec.lane === lane) failed.push(rec);
    for (const rec of failed) {
      this.calls.delete(rec.id);
      this.workerInflight--;
      const name = this.specs[rec.task].name;
      const why = !lane.ready
        ? knitError(`a worker failed to start: ${detail ?? `exit code ${code}`}`, cause ? { cause } : undefined)
        : ours
          ? knitError(`task "${name}" was on a worker that was terminated: ${detail}`, { cause })
          : knitError(`task "${name}" got no answer: its worker ${threw ? `crashed: ${detail}` : `exited with code ${code}`} (this call ran, was running, or was taken with it and never started)`, cause ? { cause } : undefined);
      this.settle(rec, false, why);
    }
    const at = this.lanes.indexOf(lane);
    if (at < 0) {
      if (retried) this.drainQueue();
      return;
    }
    if (!lane.ready && !this.shutDown) {
      // It never came up: a replacement would fail the same way.
      this.broken = knitError(`a worker failed to start: ${detail ?? `exit code ${code}`}`, { cause });
      this.lanes.splice(at, 1);
      if (this.lanes.length === 0 && !this.inline) {
        for (const rec of this.queue.drain()) this.settle(rec, false, this.broken);
      }
      return;
    }
    if (this.shutDown) {
      this.lanes.splice(at, 1);
      return;
    }
    this.lanes[at] = this.startLane(lane.index);
    this.drainQueue();
    this.startPolling();
  }

  // The calls a dead worker never took never ran: they go back to the head
  // of the queue, in the order they were made, for another worker. Returns
  // how many.
  takeBackUntaken(lane) {
    const untaken = knit.untaken(this.handle, lane.handle);
    const back = [];
    for (let i = 0; i < untaken.length; i += 2) {
      const rec = this.calls.get(untaken[i]);
      if (!rec || rec.lane !== lane || rec.settled) {
        knit.unstash(this.handle, untaken[i + 1], false);
        continue;
      }
      this.calls.delete(rec.id);
      this.workerInflight--;
      rec.stashed = untaken[i + 1];
      back.push(rec);
    }
    const n = back.length;
    if (!n) return 0;
    back.sort((a, b) => (a.token - b.token) | 0); // tokens count up per lane, wrapping
    for (const rec of back) {
      if (rec.hardTimer) {
        clearTimeout(rec.hardTimer);
        rec.hardTimer = null;
        rec.startedBy = undefined;
      }
      rec.id = 0;
      rec.lane = null;
      rec.token = 0;
    }
    for (const rec of this.queue.drain()) back.push(rec);
    for (const rec of back) this.queue.push(rec);
    return n;
  }

  // -- shutdown

  async shutdown(delayMs) {
    const delay = checkShutdownDelay(delayMs);
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      if (this.options.worker.resolveAfterFinishingAll || delay === null) {
        while (this.pendingCount > 0) await new Promise((r) => this.drainWaiters.push(r));
      } else if (delay > 0 && this.pendingCount > 0) {
        let timer;
        await Promise.race([new Promise((r) => this.drainWaiters.push(r)), new Promise((r) => (timer = setTimeout(r, delay)))]);
        clearTimeout(timer);
      }
      const err = this.shutDown = knitError("the pool was shut down before this call finished");
      for (const rec of this.awaitingArg) this.settle(rec, false, err);
      this.awaitingArg.clear();
      for (const rec of this.queue.drain()) this.settle(rec, false, err);
      for (const rec of this.calls.values()) {
        this.settle(rec, false, err);
        if (rec.hardTimer) clearTimeout(rec.hardTimer); // the workers are stopped below
      }
      this.calls.clear();
      this.inline?.abandon(err);
      this.workerInflight = 0;
      if (this.armed) knit.disarm(this.handle);
      this.armed = false;
      const exits = this.lanes.map((lane) => {
        if (lane.closed) return null;
        lane.closed = true;
        const exited = new Promise((resolve) => (lane.exited = resolve));
        knit.laneStop(lane.handle);
        // Let it leave its loop and end by itself, so its runtime tears it
        // down cleanly; terminate only a worker stuck in a task.
        const force = setTimeout(() => lane.worker.terminate().catch(() => {}), STOP_GRACE_MS);
        return exited.then(() => clearTimeout(force));
      });
      this.lanes = [];
      // A native thread leaves its loop after the call under way and drops
      // its own reference to the lane; the host lets go at once.
      for (const lane of this.nativeLanes) {
        lane.closed = true;
        knit.laneStop(lane.handle);
        knit.laneClose(this.handle, lane.handle);
      }
      this.nativeLanes = [];
      await Promise.all(exits);
      knit.poolClose(this.handle);
      livePools.delete(this);
    })();
    return this.closing;
  }
}

let gcExposed = false;
function exposeGc() {
  if (gcExposed) return;
  gcExposed = true;
  // Loaded here, not at the top: every worker imports this module, and
  // node:v8 costs each of them half a millisecond of its start.
  createRequire(import.meta.url)("node:v8").setFlagsFromString("--expose-gc");
}

function installExitHook() {
  if (exitHookInstalled || typeof process === "undefined" || !process.on) return;
  exitHookInstalled = true;
  // Parked workers must not hold up process exit.
  process.on("exit", () => {
    for (const pool of livePools) {
      for (const lane of pool.lanes) if (!lane.closed) knit.laneStop(lane.handle);
      for (const lane of pool.nativeLanes) if (!lane.closed) knit.laneStop(lane.handle);
    }
  });
}

