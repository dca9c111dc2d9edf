// Option checking: every mistake is a TypeError naming the option.
const BALANCERS = ["roundRobin", "firstIdle", "randomLane", "firstIdleOrRandom"];

function shown(got) {
  return typeof got === "string" ? JSON.stringify(got) : typeof got === "object" ? (got === null ? "null" : "an object") : String(got);
}

function fail(path, want, got) {
  throw new TypeError(`createPool: ${path} must be ${want}, got ${shown(got)}`);
}

function object(value, path) {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(path, "an object", value);
  return value;
}

function known(value, path, keys) {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new TypeError(`createPool: unknown option ${path}.${key} (known: ${keys.join(", ")})`);
  }
}

function int(value, path, min, max, dflt) {
  if (value === undefined) return dflt;
  if (!Number.isInteger(value) || value < min || value > max) fail(path, `an integer from ${min} to ${max}`, value);
  return value;
}

function num(value, path, min, max, dflt) {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !(value >= min && value <= max)) fail(path, `a number from ${min} to ${max}`, value);
  return value;
}

const MiB = 1024 * 1024;
// setTimeout holds at most 2^31 - 1 ms; a longer delay fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function checkPoolOptions(options) {
  const o = object(options, "options");
  known(o, "options", ["threads", "balancer", "inliner", "payload", "worker", "host", "debug", "maxQueue", "abortSignalCapacity", "native", "allowRemoteModules"]);
  const threads = int(o.threads, "threads", 0, 256, 1);
  const balancer = o.balancer ?? "roundRobin";
  if (!BALANCERS.includes(balancer)) fail("balancer", `one of ${BALANCERS.join(", ")}`, balancer);

  let inliner = null;
  if (o.inliner !== undefined && o.inliner !== false) {
    const i = o.inliner === true ? {} : object(o.inliner, "inliner");
    known(i, "inliner", ["position", "batchSize", "dispatchThreshold"]);
    const position = i.position ?? "last";
    if (position !== "first" && position !== "last" && !(Number.isInteger(position) && position >= 0)) fail("inliner.position", '"first", "last" or a lane index (an integer from 0)', position);
    inliner = {
      position,
      batchSize: int(i.batchSize, "inliner.batchSize", 1, 1 << 20, 32),
      dispatchThreshold: int(i.dispatchThreshold, "inliner.dispatchThreshold", 0, 1 << 30, 0),
    };
  }
  // native: C threads for nativeTask()s (default: 1 if the pool has any).
  // threads 0 without an inliner is refused once the tasks are known (the
  // Pool constructor): a pool of native tasks only needs no JS worker.
  const native = o.native === undefined ? undefined : int(o.native, "native", 0, 256, undefined);

  const p = object(o.payload, "payload");
  known(p, "payload", ["payloadInitialBytes", "payloadMaxByteLength", "maxPayloadBytes"]);
  const arenaMax = int(p.payloadMaxByteLength, "payload.payloadMaxByteLength", 0, 1024 * MiB, 64 * MiB);
  const payload = {
    arenaInitial: int(p.payloadInitialBytes, "payload.payloadInitialBytes", 0, arenaMax, Math.min(4 * MiB, arenaMax)),
    arenaMax,
    maxPayloadBytes: int(p.maxPayloadBytes, "payload.maxPayloadBytes", 1, Math.max(arenaMax, 448), Math.min(8 * MiB, Math.max(arenaMax, 448))),
  };

  const w = object(o.worker, "worker");
  known(w, "worker", ["timers", "hardTimeoutMs", "resolveAfterFinishingAll", "bootstrap", "resourceLimits", "gc", "niceIncrement", "maxInFlight"]);
  const t = object(w.timers, "worker.timers");
  known(t, "worker.timers", ["spinMicroseconds", "parkMs"]);
  if (w.resolveAfterFinishingAll !== undefined && typeof w.resolveAfterFinishingAll !== "boolean") fail("worker.resolveAfterFinishingAll", "a boolean", w.resolveAfterFinishingAll);
  if (w.gc !== undefined && typeof w.gc !== "boolean") fail("worker.gc", "a boolean", w.gc);
  let bootstrap = null;
  if (w.bootstrap !== undefined) {
    const b = object(w.bootstrap, "worker.bootstrap");
    known(b, "worker.bootstrap", ["href", "name", "data"]);
    if (typeof b.href !== "string" && !(b.href instanceof URL)) fail("worker.bootstrap.href", "a string or URL", b.href);
    if (b.name !== undefined && typeof b.name !== "string") fail("worker.bootstrap.name", "a string", b.name);
    bootstrap = { href: String(b.href), name: b.name ?? "default", data: b.data };
  }
  const worker = {
    spinMicroseconds: num(t.spinMicroseconds, "worker.timers.spinMicroseconds", 0, 1e7, 50),
    parkMs: num(t.parkMs, "worker.timers.parkMs", 0, 1e7, 50),
    hardTimeoutMs: w.hardTimeoutMs === undefined ? 0 : num(w.hardTimeoutMs, "worker.hardTimeoutMs", 1, MAX_TIMER_MS, 0),
    resolveAfterFinishingAll: w.resolveAfterFinishingAll ?? false,
    bootstrap,
    resourceLimits: w.resourceLimits === undefined ? undefined : object(w.resourceLimits, "worker.resourceLimits"),
    gc: w.gc, // undefined: use a gc the runtime already exposes
    niceIncrement: int(w.niceIncrement, "worker.niceIncrement", 0, 19, 0),
    maxInFlight: w.maxInFlight === undefined ? Infinity : int(w.maxInFlight, "worker.maxInFlight", 1, 2 ** 31, 0),
  };

  const h = object(o.host, "host");
  known(h, "host", ["spinMicroseconds", "syncSpinMicroseconds"]);
  const host = {
    spinMicroseconds: num(h.spinMicroseconds, "host.spinMicroseconds", 0, 1e7, 200),
    syncSpinMicroseconds: num(h.syncSpinMicroseconds, "host.syncSpinMicroseconds", 0, 100, 2),
  };

  if (o.debug !== undefined && typeof o.debug !== "boolean") fail("debug", "a boolean", o.debug);
  if (o.allowRemoteModules !== undefined && typeof o.allowRemoteModules !== "boolean") fail("allowRemoteModules", "a boolean", o.allowRemoteModules);
  // The original's abort-flag table size: still checked, bounds nothing now
  // (every call carries a cancel token; docs/lifecycle.md).
  int(o.abortSignalCapacity, "abortSignalCapacity", 1, 1 << 20, 4096);
  return {
    threads,
    balancer,
    inliner,
    payload,
    worker,
    host,
    debug: o.debug ?? false,
    maxQueue: o.maxQueue === undefined ? Infinity : int(o.maxQueue, "maxQueue", 1, 2 ** 31, 0),
    native,
    allowRemoteModules: o.allowRemoteModules ?? false,
  };
}

// shutdown(delayMs): how long pending calls may still finish; Infinity
// waits for all of them. Returns null for "no timer".
export function checkShutdownDelay(delayMs) {
  if (delayMs === undefined) return 0;
  if (typeof delayMs !== "number" || !(delayMs >= 0)) {
    throw new TypeError(`shutdown(delayMs): delayMs must be a number of ms from 0 (Infinity waits for every call), got ${shown(delayMs)}`);
  }
  return delayMs > MAX_TIMER_MS ? null : delayMs;
}

// task({ timeout }): a number of ms, or { time, default | maybe | error }.
export function checkTimeout(value, where) {
  if (value === undefined) return undefined;
  if (typeof value === "number") {
    if (!(value >= 0 && value < 2 ** 31)) throw new TypeError(`${where}: timeout must be a number of ms from 0 to 2^31`);
    return { time: value, kind: "error" };
  }
  if (value === null || typeof value !== "object" || typeof value.time !== "number" || !(value.time >= 0 && value.time < 2 ** 31)) {
    throw new TypeError(`${where}: timeout must be ms, or { time, default | maybe | error }`);
  }
  if ("default" in value) return { time: value.time, kind: "default", value: value.default };
  if (value.maybe === true) return { time: value.time, kind: "maybe" };
  if ("error" in value) return { time: value.time, kind: "error", error: value.error };
  return { time: value.time, kind: "error" };
}
