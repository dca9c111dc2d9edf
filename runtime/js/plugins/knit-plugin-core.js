// The core shared by knitting/esbuild, knitting/rollup and knitting/vite.
//
// A bundle erases the module paths that knitting's run-time discovery walks,
// so the plugins run knitgen at build time instead:
//   1. `knitgen --manifest TASKS...` gives the tasks (names, ids, modules);
//   2. `knitgen TASKS... -o GEN --depfile` writes one worker entry per
//      runtime, which the bundler emits as extra entry points / chunks;
//   3. `import ... from "knitting"` in the bundled code resolves to a small
//      generated module (wrapperSource) that re-exports knitting with a
//      `createPool` that maps the tasks it is given to the generated table.
// knitgen's diagnostics come back as { severity, file, line, column, ... }
// for each bundler to report as its own errors.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const RUNTIMES = ["node", "deno", "bun"];

const DIAG = /^(.+?):(\d+):(\d+): (error|warning|note): (.*)$/;

/** Parses knitgen's stderr: `path:line:col: severity: message`, the source line, a caret. */
export function parseDiagnostics(text, root) {
  const out = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = DIAG.exec(lines[i]);
    if (m) {
      const d = { severity: m[4], file: path.resolve(root, m[1]), relFile: m[1], line: Number(m[2]), column: Number(m[3]), message: m[5], lineText: "" };
      if (i + 2 < lines.length && /^\s*\^$/.test(lines[i + 2])) {
        d.lineText = lines[i + 1];
        i += 2;
      }
      if (d.severity === "note" && out.length) out[out.length - 1].notes.push(d);
      else out.push({ ...d, notes: [] });
      continue;
    }
    // file-less diagnostics: `path: error: message`
    const f = /^(?:(.+?): )?(error|warning): (.*)$/.exec(lines[i]);
    if (f) out.push({ severity: f[2], file: f[1] ? path.resolve(root, f[1]) : null, relFile: f[1] ?? null, line: 0, column: 0, message: f[3], lineText: "", notes: [] });
  }
  return out;
}

// Paths that only the bundler's output settles (worker entries, a native
// task's library, from wherever the generated module's code lands) are
// placeholders until then. The padding lets the filled-in path keep the
// code's length, so source maps stay right.
const PAD = "_".repeat(96);
const PLACEHOLDER = /(["'`])__KNITTING_(?:WORKER_(node|deno|bun)|FILE_(\d+))__(_*)\1/g;

/** A JS expression for the output URL of a runtime's worker entry. */
export function workerPlaceholder(runtime) {
  return `new URL("__KNITTING_WORKER_${runtime}__${PAD}", import.meta.url)`;
}

/** Fills the placeholders of one output file that sits in fromDir:
 * worker(runtime) and file(index) give the target paths (same kind of path
 * as fromDir). Returns null when the code has none. */
export function fillPlaceholders(code, fromDir, worker, file) {
  if (!code.includes("__KNITTING_")) return null;
  return code.replace(PLACEHOLDER, (all, quote, rt, i) => {
    let rel = path.relative(fromDir, rt ? worker(rt) : file(Number(i))).split(path.sep).join("/");
    if (!rel.startsWith(".")) rel = `./${rel}`;
    const lit = quote + rel + quote;
    return lit + " ".repeat(Math.max(0, all.length - lit.length));
  });
}

/** Formats one diagnostic the way knitgen prints it. */
export function formatDiagnostic(d) {
  const where = d.line ? `${d.relFile}:${d.line}:${d.column}: ` : d.relFile ? `${d.relFile}: ` : "";
  return `${where}${d.severity}: ${d.message}`;
}

function knitgenPath(options) {
  if (options.knitgen) return options.knitgen;
  if (process.env.KNITGEN) return process.env.KNITGEN;
  return fileURLToPath(new URL("./bin/knitgen", import.meta.url));
}

// The names knitting exports (read from its index.js, staged next to this
// file), for the wrapper to re-export one by one: bundlers turn
// `export * from` an external package into a copy made when the wrapper's
// body runs, which is after the task modules ran (they are in a cycle with
// it), so a task module's top-level `nativeTask(...)` or `isMain` saw
// undefined. Named re-exports become plain imports, bound before any body.
let apiNames = null;
function knittingExports() {
  if (apiNames) return apiNames;
  const text = fs.readFileSync(new URL("./index.js", import.meta.url), "utf8");
  const names = [];
  for (const m of text.matchAll(/^export\s*\{([^}]*)\}/gm)) {
    for (const part of m[1].split(",")) {
      const name = part.trim().split(/\s+as\s+/).pop();
      if (name) names.push(name);
    }
  }
  for (const m of text.matchAll(/^export\s+(?:async\s+)?(?:const|let|var|function\*?|class)\s+([\w$]+)/gm)) names.push(m[1]);
  if (!names.includes("createPool")) throw new Error("knitting plugin: cannot read the exports of knitting's index.js");
  apiNames = names;
  return names;
}

function depfileInputs(text) {
  // make syntax: `target: a b \` with `\ ` for spaces and `$$` for `$`
  const body = text.replace(/\\\n/g, " ");
  const colon = body.search(/:(\s|$)/);
  const list = colon < 0 ? "" : body.slice(colon + 1);
  const files = [];
  let cur = "";
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "\\" && list[i + 1] === " ") {
      cur += " ";
      i++;
    } else if (c === "$" && list[i + 1] === "$") {
      cur += "$";
      i++;
    } else if (/\s/.test(c)) {
      if (cur) files.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) files.push(cur);
  return files;
}

/**
 * options:
 *   tasks     task module path(s), relative to root (required)
 *   root      project folder (default: process.cwd())
 *   genDir    where knitgen writes (default: ROOT/node_modules/.cache/knitting/<hash>)
 *   runtimes  worker entries to emit (default: node, deno, bun)
 *   knitgen   the knitgen binary (default: $KNITGEN, else the one in this package)
 *   externalKnitting  keep `knitting` out of the bundle (default true: its
 *             native addon is loaded from node_modules)
 */
export function createCore(options = {}) {
  const tasks = [].concat(options.tasks ?? []);
  if (tasks.length === 0 || tasks.some((t) => typeof t !== "string" || !t)) {
    throw new TypeError("knitting plugin: `tasks` must name the task module(s), e.g. { tasks: ['src/tasks.ts'] }");
  }
  const root = path.resolve(options.root ?? process.cwd());
  const runtimes = options.runtimes ?? RUNTIMES;
  for (const rt of runtimes) if (!RUNTIMES.includes(rt)) throw new TypeError(`knitting plugin: unknown runtime ${JSON.stringify(rt)}`);
  const hash = createHash("sha256").update(JSON.stringify([root, tasks])).digest("hex").slice(0, 12);
  const genDir = path.resolve(root, options.genDir ?? path.join("node_modules", ".cache", "knitting", hash));
  const stem = path.basename(tasks[0]).replace(/\.[^.]*$/, "");
  const knitgen = knitgenPath(options);
  const core = {
    root,
    tasks,
    runtimes,
    genDir,
    stem,
    externalKnitting: options.externalKnitting ?? true,
    manifest: null,
    inputs: tasks.map((t) => path.resolve(root, t)),
    files: [], // absolute paths behind the __KNITTING_FILE_<n>__ placeholders

    run(args) {
      const r = spawnSync(knitgen, args, { cwd: root, encoding: "utf8", maxBuffer: 256 << 20 });
      if (r.error) {
        const message = r.error.code === "ENOENT" ? `cannot run knitgen at ${knitgen} (set the plugin's knitgen option or $KNITGEN)` : `knitgen: ${r.error.message}`;
        return { status: -1, stdout: "", diagnostics: [{ severity: "error", file: null, relFile: null, line: 0, column: 0, message, lineText: "", notes: [] }] };
      }
      return { status: r.status, stdout: r.stdout, diagnostics: parseDiagnostics(r.stderr, root) };
    },

    /** Runs knitgen. Returns { errors, warnings } (diagnostics); on success
     * core.manifest and core.inputs are up to date. */
    generate() {
      const m = core.run(["--manifest", "--", ...tasks]);
      let diags = m.diagnostics;
      if (m.status === 0) {
        try {
          core.manifest = JSON.parse(m.stdout);
        } catch (e) {
          diags = [...diags, { severity: "error", file: null, relFile: null, line: 0, column: 0, message: `knitgen printed a manifest that is not JSON: ${e.message}`, lineText: "", notes: [] }];
        }
      }
      if (m.status === 0 && core.manifest) {
        fs.mkdirSync(genDir, { recursive: true });
        const depfile = path.join(genDir, `${stem}.d`);
        const g = core.run(["-o", genDir, "--depfile", depfile, "--", ...tasks]);
        diags = [...diags, ...g.diagnostics.filter((d) => d.severity === "error")];
        if (g.status === 0) {
          try {
            core.inputs = depfileInputs(fs.readFileSync(depfile, "utf8")).map((f) => path.resolve(root, f));
          } catch {
            /* keep the previous list */
          }
        } else if (!g.diagnostics.some((d) => d.severity === "error")) {
          diags.push({ severity: "error", file: null, relFile: null, line: 0, column: 0, message: `knitgen -o ${genDir} failed (status ${g.status})`, lineText: "", notes: [] });
        }
      } else if (m.status !== 0 && !diags.some((d) => d.severity === "error")) {
        diags.push({ severity: "error", file: null, relFile: null, line: 0, column: 0, message: `knitgen --manifest failed (status ${m.status})`, lineText: "", notes: [] });
      }
      return { errors: diags.filter((d) => d.severity === "error"), warnings: diags.filter((d) => d.severity === "warning") };
    },

    workerEntry(runtime) {
      return path.join(genDir, `${stem}.worker.${runtime}.mjs`);
    },

    workerName(runtime) {
      return `${stem}.worker.${runtime}`;
    },

    /** The module that bundled code gets for `import ... from "knitting"`,
     * with placeholders for the paths of the worker entries and of files
     * that stay outside the bundle (a native task's library): the bundler
     * plugin fills them in with fillPlaceholders. */
    wrapperSource(realKnitting = "knitting") {
      const workerUrl = workerPlaceholder;
      const fileUrl = (f) => {
        const i = core.files.includes(f) ? core.files.indexOf(f) : core.files.push(f) - 1;
        return `new URL("__KNITTING_FILE_${i}__${PAD}", import.meta.url)`;
      };
      const tasksList = core.manifest?.tasks ?? [];
      const mods = [];
      const refs = tasksList.map((t) => {
        const abs = path.resolve(root, t.module);
        let i = mods.indexOf(abs);
        if (i < 0) i = mods.push(abs) - 1;
        return [i, t.export ?? t.name];
      });
      const spec = (s) => JSON.stringify(s);
      // A relative library is relative to its task module, as knitgen's own
      // tables have it; the bundle names that file from where it lands.
      const library = (t) => {
        if (!/^\.\.?\//.test(t.library)) return spec(t.library);
        return `${fileUrl(path.resolve(root, path.dirname(t.module), t.library))}.href`;
      };
      const native = (t) => (t.kind === "native" ? `, symbol: ${spec(t.symbol)}, library: ${library(t)}` : "");
      const rows = tasksList.map((t) => `  { name: ${spec(t.name)}, kind: ${spec(t.kind)}, arg: ${spec(t.arg)}, result: ${spec(t.result)}, argCodec: ${spec(t.argCodec ?? "any")}, resultCodec: ${spec(t.resultCodec ?? "any")}${native(t)} },`);
      const workers = runtimes.map((rt) => `    ${rt}: ${workerUrl(rt)},`);
      const own = ["createPool", "task", "importTask"];
      const reexports = knittingExports().filter((n) => !own.includes(n));
      return `// generated by the knitting bundler plugin: "knitting" for bundled code,
// whose createPool maps tasks to the dispatch table knitgen generated.
import * as real from ${spec(realKnitting)};
${mods.map((m, i) => `import * as m${i} from ${spec(m)};`).join("\n")}
export { ${reexports.join(", ")} } from ${spec(realKnitting)};

const POOL = Symbol.for("knitting.pool");
const TABLE = Symbol.for("knitting.table");
// Function declarations only: task modules call task() before this body runs.
function rows() {
  return [
${rows.join("\n")}
  ];
}
function refs() {
  return [${refs.map((r) => `() => m${r[0]}[${spec(r[1])}]`).join(", ")}];
}
function workers() {
  return {
${workers.join("\n")}
  };
}
// The exported values of the table's tasks; a module still being evaluated
// (an import cycle) is skipped.
function values() {
  return refs().map((get) => {
    try {
      return get();
    } catch {
      return undefined;
    }
  });
}
function definitionOf(value) {
  return value && value[POOL] && value.task ? value.task : value;
}
function idsOf(tasks) {
  const known = new Map();
  values().forEach((v, id) => {
    if (v === undefined) return;
    if (!known.has(v)) known.set(v, id);
    const d = definitionOf(v);
    if (!known.has(d)) known.set(d, id);
  });
  const out = [];
  for (const key of Object.keys(tasks)) {
    const v = tasks[key];
    const id = known.get(v) ?? known.get(definitionOf(v));
    if (id === undefined) return null;
    out.push([key, id]);
  }
  return out.length ? out : null;
}
/** The generated dispatch table, with the tasks' own timeouts. */
export function knitTable() {
  const vs = values();
  return real.defineTable({
    tasks: rows().map((row, id) => ({ ...row, timeout: definitionOf(vs[id])?.timeout })),
    workers: workers(),
  });
}
export function createPool(options) {
  const direct = real.createPool(options);
  return function withTasks(tasks) {
    if (!real.isMain || tasks === null || typeof tasks !== "object" || tasks[TABLE]) return direct(tasks);
    const ids = idsOf(tasks);
    if (!ids) return direct(tasks); // not from the generated table: the run-time path
    const table = knitTable();
    const names = rows().map((r) => r.name);
    const pool = direct(table);
    const call = Object.create(null);
    for (const [key, id] of ids) call[key] = pool.call[names[id]];
    return Object.create(pool, { call: { value: call, enumerable: true } });
  };
}
// task(...).createPool() and importTask(...).createPool(): the pool is made
// on first use, when the module that exports the task has been evaluated.
function singlePool(definition, options, fallback) {
  if (!real.isMain) return fallback(options);
  let pool = null;
  const get = () => {
    if (!pool) {
      pool = idsOf({ task: definition }) ? createPool(options)({ task: definition }) : null;
      if (pool) pool = Object.create(pool, { call: { value: pool.call.task } });
      else pool = fallback(options);
    }
    return pool;
  };
  return {
    [POOL]: true,
    task: definition,
    call: (arg, callOptions) => get().call(arg, callOptions),
    shutdown: (delayMs) => (pool ? pool.shutdown(delayMs) : Promise.resolve()),
    get pending() {
      return pool ? pool.pending : 0;
    },
    get threads() {
      return get().threads;
    },
    [Symbol.dispose]: () => void (pool && pool.shutdown()),
    [Symbol.asyncDispose]: () => (pool ? pool.shutdown() : Promise.resolve()),
  };
}
function withSinglePool(definition) {
  const fallback = definition.createPool.bind(definition);
  definition.createPool = (options) => singlePool(definition, options, fallback);
  return definition;
}
export function task(spec) {
  return withSinglePool(real.task(spec));
}
export function importTask(spec) {
  return withSinglePool(real.importTask(spec));
}
`;
    },
  };
  return core;
}
