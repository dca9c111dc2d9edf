// knitting/vite: the Rollup plugin, run before Vite's own resolver, for
// `vite build` (client or SSR). The dev server keeps knitting's run-time path.
import rollup from "./rollup.js";

/** @param {import("./vite.d.ts").KnittingPluginOptions} options */
export default function knitting(options = {}) {
  const opts = { ...options };
  return {
    ...rollup(opts),
    enforce: "pre",
    apply: "build",
    configResolved(config) {
      opts.root ??= config.root;
    },
  };
}
