// knitting/esbuild: runs knitgen on the task modules, adds one worker entry
// point per runtime, and hands bundled code a `knitting` whose createPool
// uses the generated dispatch table. See docs/bundlers.md.
import fs from "node:fs";
import path from "node:path";
import { createCore, fillPlaceholders } from "./knit-plugin-core.js";

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
      build.onLoad({ filter: /.*/, namespace: NS }, () => ({
        contents: core.wrapperSource(),
        resolveDir: core.root,
        loader: "js",
        watchFiles: core.inputs,
      }));

      // Where the workers and the generated module's code landed depends on
      // entryNames, chunkNames and the entries' folders: the metafile says,
      // and the placeholders are filled in the written (or returned) files.
      init.metafile = true;
      const cwd = init.absWorkingDir ?? process.cwd();
      build.onEnd((result) => {
        if (result.errors.length || !result.metafile) return;
        const workers = {};
        for (const [out, meta] of Object.entries(result.metafile.outputs)) {
          const rt = meta.entryPoint && core.runtimes.find((r) => path.resolve(cwd, meta.entryPoint) === core.workerEntry(r));
          if (rt) workers[rt] = path.resolve(cwd, out);
        }
        const fill = (file, code) => fillPlaceholders(code, path.dirname(file), (rt) => workers[rt], (i) => core.files[i]);
        if (result.outputFiles) {
          result.outputFiles = result.outputFiles.map((f) => {
            const code = /\.[cm]?js$/.test(f.path) ? fill(f.path, f.text) : null;
            if (code === null) return f;
            const contents = new TextEncoder().encode(code);
            return { path: f.path, hash: f.hash, contents, text: code };
          });
          return;
        }
        for (const out of Object.keys(result.metafile.outputs)) {
          const file = path.resolve(cwd, out);
          if (!/\.[cm]?js$/.test(file)) continue;
          const code = fill(file, fs.readFileSync(file, "utf8"));
          if (code !== null) fs.writeFileSync(file, code);
        }
      });
    },
  };
}
