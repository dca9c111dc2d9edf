// knitting/rollup: runs knitgen on the task modules, emits one worker chunk
// per runtime, and hands bundled code a `knitting` whose createPool uses the
// generated dispatch table. Also the base of knitting/vite. See docs/bundlers.md.
import path from "node:path";
import { createCore, fillPlaceholders, formatDiagnostic } from "./knit-plugin-core.js";

const VIRTUAL = "\0knitting-bundled";

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
      return core.wrapperSource();
    },
    // Worker chunks and native libraries are named from each chunk here
    // (Vite's import.meta.ROLLUP_FILE_URL_ would give a URL under `base`,
    // which is wrong for a server bundle).
    renderChunk(code, chunk, outputOptions) {
      const outDir = path.resolve(outputOptions.dir ?? path.dirname(outputOptions.file ?? "."));
      const out = fillPlaceholders(code, path.dirname(path.join(outDir, chunk.fileName)), (rt) => path.join(outDir, this.getFileName(refs[rt])), (i) => core.files[i]);
      return out === null ? null : { code: out, map: null };
    },
  };
}
