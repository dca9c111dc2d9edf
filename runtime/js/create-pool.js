// createPool and the pools users hold: what a pool's tasks are (specs, from
// task(), importTask(), nativeTask(), bare functions or a knitgen table),
// and the public object over the host's Pool (pool.js).
import { fileURLToPath } from "node:url";
import { knit, runtime } from "./addon.js";
import { checkPoolOptions, checkTimeout } from "./options.js";
import { Pool, knitError } from "./pool.js";
import { callerSite, siteBase } from "./site.js";
import { IMPORT, POOL, TASK, setSinglePoolFactory } from "./task.js";
import { NATIVE } from "./native.js";
import { TABLE, isMain } from "./env.js";

// ---- task specs: what a worker needs to find each task ---------------------

function specOf(name, value, poolSite) {
  if (value && value[NATIVE]) return { name, kind: "native", native: true, library: value.library, symbol: value.symbol, arg: value.arg, result: value.result, timeout: value.timeout, local: null };
  if (value && value[TASK]) {
    if (!value.site) throw new TypeError(`createPool: cannot tell where task "${name}" was defined`);
    return { name, kind: "task", href: value.site.href, line: value.site.line, timeout: value.timeout, local: value.f };
  }
  if (value && value[POOL] && value.task) return specOf(name, value.task, poolSite);
  if (value && value[IMPORT]) return { name, kind: "import", href: value.href, exportName: value.name, timeout: value.timeout, local: null };
  if (typeof value === "function") {
    if (!poolSite) throw new TypeError(`createPool: cannot tell which module exports function "${name}"`);
    return { name, kind: "function", href: poolSite.href, fnName: value.name, source: String(value), timeout: undefined, local: value };
  }
  throw new TypeError(`createPool: task "${name}" must be a task(), importTask(), nativeTask() or an exported function`);
}

const workerEntry = new URL("./worker.js", import.meta.url);

// Inside a knitting worker pools are not started: the module is being
// imported only so the worker can find its tasks. Calls reject, shaped like
// a live pool's: call(arg) for one task, call.<name>(arg) for named ones.
function inertPool(definition, names = null) {
  const refuse = () => Promise.reject(knitError("pools cannot be used inside a knitting worker"));
  let call = refuse;
  if (names) {
    call = Object.create(null);
    for (const name of names) call[name] = refuse;
  }
  return { [POOL]: true, task: definition, call, shutdown: async () => {}, [Symbol.dispose]() {}, [Symbol.asyncDispose]: async () => {} };
}

function publicPool(pool, names) {
  const call = Object.create(null);
  names.forEach((name, i) => {
    call[name] = (arg, options) => pool.call(i, arg, options);
  });
  const shutdown = (delayMs) => pool.shutdown(delayMs);
  return {
    [POOL]: true,
    call,
    shutdown,
    [Symbol.dispose]: () => void pool.shutdown(),
    [Symbol.asyncDispose]: () => pool.shutdown(),
    get pending() {
      return pool.pendingCount;
    },
    get threads() {
      return pool.lanes.length;
    },
    get native() {
      return pool.nativeLanes.length;
    },
  };
}

export function createPool(options) {
  const opts = checkPoolOptions(options);
  const poolSite = isMain ? callerSite() : null;
  if (isMain && opts.worker.bootstrap) opts.worker.bootstrap = resolveBootstrap(opts, poolSite);
  return function withTasks(tasks) {
    if (tasks === null || typeof tasks !== "object") throw new TypeError("createPool(options)(tasks): tasks must be an object of tasks or a knitgen table");
    if (!isMain) return inertPool(null, tasks[TABLE] ? tasks[TABLE].tasks.map((t) => t.name) : Object.keys(tasks));
    if (tasks[TABLE]) {
      const table = tasks[TABLE];
      const names = table.tasks.map((t) => t.name);
      const specs = table.tasks.map((t) => (t.kind === "native" ? nativeSpecOf(t) : { name: t.name, kind: t.kind, href: t.href, timeout: t.timeout, codec: knit.codecId(t.argCodec), local: null }));
      // a remote importTask loads lazily in the worker; its href still needs allowRemoteModules
      checkLocalModules(specs, opts);
      const url = table.workers[runtime] ?? table.workers.node;
      return publicPool(new Pool(opts, specs, { url, tasks: null }), names);
    }
    const site = siteOf(tasks) ?? poolSite;
    const names = Object.keys(tasks);
    if (names.length === 0) throw new TypeError("createPool(options)(tasks): no tasks given");
    const specs = names.map((name) => specOf(name, tasks[name], site));
    checkLocalModules(specs, opts);
    const wire = specs.map(({ local, timeout, ...rest }) => rest);
    return publicPool(new Pool(opts, specs, { url: workerEntry, tasks: wire }), names);
  };
}

// Bare functions are looked up in the module that called createPool()(...)
// or, failing that, any module that defined a task of the same pool.
function siteOf(tasks) {
  for (const value of Object.values(tasks)) {
    if (value && value[TASK] && value.site) return value.site;
    if (value && value[POOL] && value.task?.site) return value.task.site;
  }
  return null;
}

function checkLocalModules(specs, opts) {
  for (const s of specs) if (s.href) checkLocal(s.href, `task "${s.name}" comes from`, opts);
}

function checkLocal(href, what, opts) {
  if (!opts.allowRemoteModules && !href.startsWith("file:")) {
    throw new TypeError(`createPool: ${what} ${href}; only local modules load unless allowRemoteModules is set`);
  }
}

// worker.bootstrap.href is relative to the module that called createPool,
// as importTask's href is to the one that called importTask.
function resolveBootstrap(opts, site) {
  const bootstrap = opts.worker.bootstrap;
  let href;
  try {
    href = new URL(bootstrap.href, siteBase(site)).href;
  } catch {
    throw new TypeError(`createPool: worker.bootstrap.href: cannot resolve ${JSON.stringify(bootstrap.href)}`);
  }
  checkLocal(href, "worker.bootstrap.href is", opts);
  return { ...bootstrap, href };
}

// A native entry of a knitgen table: what nativeTask() would have recorded,
// with the types knitgen read from the generics ("unknown" if none).
function nativeSpecOf(t) {
  if (!t.symbol || !t.library) throw new TypeError(`createPool: native task "${t.name}" of this knitgen table has no symbol or library; regenerate it`);
  const known = (text) => (text && text !== "unknown" ? text : undefined);
  const library = t.library.startsWith("file:") ? fileURLToPath(t.library) : t.library;
  const timeout = checkTimeout(t.timeout, `createPool: native task "${t.name}" of this knitgen table`);
  return { name: t.name, kind: "native", native: true, library, symbol: t.symbol, arg: known(t.arg), result: known(t.result), timeout, local: null };
}

function createSinglePool(definition, options) {
  if (!isMain) return inertPool(definition);
  const name = definition[IMPORT] ? definition.name : "task";
  const pool = createPool(options)({ [name]: definition });
  return Object.defineProperties(pool, {
    call: { value: pool.call[name], enumerable: true },
    task: { value: definition },
  });
}
setSinglePoolFactory(createSinglePool);

