// knitting/rollup: runs knitgen on the task modules, emits one worker chunk
// per runtime, and hands bundled code a `knitting` whose createPool uses the
// generated dispatch table. Also the base of knitting/vite. See docs/bundlers.md.
import path from "node:path";
import { createCore, formatDiagnostic } from "./knit-plugin-core.js";

const VIRTUAL = "\0knitting-bundled";
// Stands for a worker chunk's path until renderChunk knows both file names
// (import.meta.ROLLUP_FILE_URL_ would do, but Vite turns it into a URL
// under `base`, which is wrong for a server bundle).
// Likewise __KNITTING_FILE_<n>__ for files outside the bundle (a native
// task's library): their path from each chunk needs the output folder.
const PLACEHOLDER = /__KNITTING_(?:WORKER_(node|deno|bun)|FILE_(\d+))__/g;

function rollupError(d, all) {
  const rest = all.filter((x) => x !== d).map(formatDiagnostic);
  return {
    message: [d.message, ...rest].join("\n"),
    id: d.file ?? undefined,
    loc: d.line ? { file: d.file, line: d.line, column: Math.max(0, d.column - 1) } : undefined,
    frame: d.lineText ? `${d.lineText}\n${" ".repeat(Math.max(0, d.column - 1))}^` : undefined,
  };
}

/** @param {import("./rollup.d.ts").KnittingPluginOptions} options */
export default function knitting(options = {}) {
  let core = null;
  let refs = {};
  const files = [];
  return {
    name: "knitting",
    buildStart() {
      core ??= createCore({ ...options, root: options.root ?? process.cwd() });
      const r = core.generate();
      for (const f of core.inputs) this.addWatchFile(f);
      for (const d of r.warnings) this.warn(rollupError(d, [d]));
      if (r.errors.length) this.error(rollupError(r.errors[0], r.errors));
      refs = {};
      for (const rt of core.runtimes) refs[rt] = this.emitFile({ type: "chunk", id: core.workerEntry(rt), name: core.workerName(rt) });
    },
    resolveId(source, importer) {
      if (source === "knitting" && importer !== VIRTUAL) return VIRTUAL;
      if (core?.externalKnitting && (source === "knitting" || source.startsWith("knitting/"))) return { id: source, external: true };
      return null;
    },
    load(id) {
      if (id !== VIRTUAL) return null;
      const file = (f) => {
        const i = files.includes(f) ? files.indexOf(f) : files.push(f) - 1;
        return `new URL("__KNITTING_FILE_${i}__", import.meta.url)`;
      };
      return core.wrapperSource((rt) => `new URL("__KNITTING_WORKER_${rt}__", import.meta.url)`, file);
    },
    renderChunk(code, chunk, outputOptions) {
      if (!code.includes("__KNITTING_")) return null;
      const from = path.posix.dirname(chunk.fileName);
      const outDir = path.resolve(outputOptions.dir ?? path.dirname(outputOptions.file ?? "."));
      const out = code.replace(PLACEHOLDER, (_, rt, i) => {
        const rel = rt
          ? path.posix.relative(from, this.getFileName(refs[rt]))
          : path.relative(path.join(outDir, from), files[i]).split(path.sep).join("/");
        return rel.startsWith(".") ? rel : `./${rel}`;
      });
      return { code: out, map: null };
    },
  };
}
