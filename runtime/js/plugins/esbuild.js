// knitting/esbuild: runs knitgen on the task modules, adds one worker entry
// point per runtime, and hands bundled code a `knitting` whose createPool
// uses the generated dispatch table. See docs/bundlers.md.
import path from "node:path";
import { createCore } from "./knit-plugin-core.js";

const NS = "knitting-bundled";

function toMessage(d, root) {
  return {
    text: d.message,
    location: d.line
      ? { file: path.relative(root, d.file) || d.relFile, line: d.line, column: Math.max(0, d.column - 1), length: 1, lineText: d.lineText }
      : null,
    notes: d.notes.map((n) => ({ text: n.message, location: n.line ? { file: path.relative(root, n.file), line: n.line, column: Math.max(0, n.column - 1), length: 1, lineText: n.lineText } : null })),
  };
}

/** @param {import("./esbuild.d.ts").KnittingPluginOptions} options */
export default function knitting(options = {}) {
  return {
    name: "knitting",
    setup(build) {
      const core = createCore({ root: build.initialOptions.absWorkingDir, ...options });
      const init = build.initialOptions;
      if (init.outfile) throw new Error("knitting/esbuild: use outdir, not outfile (the worker entries are extra outputs)");
      // Generate once now, so the worker entry points exist when esbuild
      // resolves them; onStart regenerates for every (watch) rebuild.
      let pending = core.generate();
      const ext = init.outExtension?.[".js"] ?? ".js";
      const extra = core.runtimes.map((rt) => ({ in: core.workerEntry(rt), out: core.workerName(rt) }));
      let entries = init.entryPoints ?? [];
      if (Array.isArray(entries)) {
        // the worker entries must not move the outbase of the app's own
        if (!init.outbase) {
          const ins = entries.map((e) => (typeof e === "string" ? e : e.in)).map((e) => path.resolve(core.root, e));
          if (ins.length) init.outbase = ins.map(path.dirname).reduce((a, b) => {
            while (a !== b && !b.startsWith(a + path.sep)) a = path.dirname(a);
            return a;
          });
        }
        init.entryPoints = [...entries, ...extra];
      } else {
        init.entryPoints = { ...entries, ...Object.fromEntries(extra.map((e) => [e.out, e.in])) };
      }

      build.onStart(() => {
        const r = pending ?? core.generate();
        pending = null;
        return { errors: r.errors.map((d) => toMessage(d, core.root)), warnings: r.warnings.map((d) => toMessage(d, core.root)) };
      });
      build.onResolve({ filter: /^knitting(\/.*)?$/ }, (args) => {
        if (args.path === "knitting" && args.namespace !== NS) return { path: "knitting", namespace: NS };
        if (core.externalKnitting) return { path: args.path, external: true };
        return undefined;
      });
      const outdir = path.resolve(init.absWorkingDir ?? process.cwd(), init.outdir ?? ".");
      const url = (rel) => `new URL(${JSON.stringify(rel.startsWith(".") ? rel : `./${rel}`)}, import.meta.url)`;
      build.onLoad({ filter: /.*/, namespace: NS }, () => ({
        // the workers sit at the top of outdir, as does the app's entry
        contents: core.wrapperSource(
          (rt) => url(`${core.workerName(rt)}${ext}`),
          (file) => url(path.relative(outdir, file).split(path.sep).join("/")),
        ),
        resolveDir: core.root,
        loader: "js",
        watchFiles: core.inputs,
      }));
    },
  };
}
